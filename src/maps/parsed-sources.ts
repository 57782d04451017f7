import { LRUCache } from 'lru-cache';
import { readSourceDefinition, sourceKey, type SourceDefinition } from './source-definition.js';

/** A source definition read from a request, and its cache key per connection version. */
export class ParsedSource {
  private keyed: { connectionKey: string; key: string } | undefined;

  constructor(
    /** The request's parameters; shared between requests, so never changed. */
    readonly params: Readonly<Record<string, unknown>>,
    readonly source: SourceDefinition,
  ) {}

  /** `sourceKey` of the source on the connection whose cache key is `connectionKey`. */
  keyOn(connectionKey: string): string {
    if (this.keyed?.connectionKey !== connectionKey) {
      this.keyed = { connectionKey, key: sourceKey(this.source, connectionKey) };
    }
    return this.keyed.key;
  }
}

/**
 * Source definitions of GET requests by their query string. Reading one is pure (the same
 * connection name, type and query string always give the same definition, or the same
 * error), and a map asks for dozens of tiles with one query string: each is read once.
 */
export class ParsedSources {
  private readonly entries = new LRUCache<string, ParsedSource>({ max: 2_000 });

  /** The definition `query` (a raw query string) names; throws the 4xx `ApiError` of a bad one. */
  fromQuery(connection: string, type: string, query: string): ParsedSource {
    const cacheKey = `${connection}/${type}?${query}`;
    let parsed = this.entries.get(cacheKey);
    if (!parsed) {
      parsed = ParsedSources.parse(
        connection,
        type,
        Object.fromEntries(new URLSearchParams(query)),
      );
      this.entries.set(cacheKey, parsed);
    }
    return parsed;
  }

  /** The definition of parameters that are not a query string (a POST body), not kept. */
  static parse(connection: string, type: string, params: Record<string, unknown>): ParsedSource {
    const source = readSourceDefinition(connection, type, params);
    return new ParsedSource(Object.freeze(params), Object.freeze(source));
  }
}

/** The query string of a request URL, without the `?`; empty when there is none. */
export function queryStringOf(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
}
