import {
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type ValueNode,
} from 'kysely';

/**
 * A text value the store cannot keep. Its `statusCode` makes the API answer 400 with its
 * message, as for any other bad input, instead of a 500.
 */
export class UnstorableTextError extends Error {
  override readonly name = 'UnstorableTextError';
  readonly statusCode = 400;

  constructor() {
    super('Text may not contain the NUL character (U+0000)');
  }
}

function rejectNul(value: unknown): void {
  if (typeof value === 'string' && value.includes('\u0000')) throw new UnstorableTextError();
}

class NulFinder extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    rejectNul(node.value);
    return super.transformValue(node);
  }

  protected override transformPrimitiveValueList(
    node: PrimitiveValueListNode,
  ): PrimitiveValueListNode {
    node.values.forEach(rejectNul);
    return super.transformPrimitiveValueList(node);
  }
}

/**
 * PostgreSQL's text type cannot hold U+0000, which SQLite stores like any other character;
 * a statement carrying one would fail deep in the database with a 500. This plugin refuses
 * such values before the statement is sent, with an error the API answers as a 400. (JSON
 * text is safe: JSON writes the character as `\u0000`.)
 */
export const nulGuardPlugin: KyselyPlugin = {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return new NulFinder().transformNode(args.node);
  },
  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  },
};
