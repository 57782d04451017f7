/**
 * Route schemas write the examples of values a Postman run fills in (the connection, ids made
 * by an earlier request, the database of the Connections examples, the unique part of the names
 * a run creates) as Postman variables, `{{name}}` or `{{$guid}}`. The OpenAPI document shows
 * readers real values instead, and keeps the variable form beside them as `x-postman-example`,
 * which the collection generator prefers.
 */

/** What each variable stands for in the published document. */
const DOCUMENT_VALUES: Record<string, string | number> = {
  connectionName: 'carto_dw',
  clientId: 'your-client-id',
  clientSecret: 'your-client-secret',
  clientId2: 'q8GmXCB3ZkD6bL0u5xVYpJ2eT1nWfAri',
  pgHost: 'db.example.com',
  pgPort: 5432,
  pgDatabase: 'gis',
  pgUser: 'graticule',
  pgPassword: 'database-password',
  apiToken: 'eyJhbGciOiJIUzI1NiJ9.eyJhIjoiYWNjb3VudCIsImp0aSI6InRva2VuIn0.signature',
  connectionId: '3f9a5c2e-7b1d-4e8a-9c6f-2d4b8e1a7c90',
  jobId: '0d6f7c1a-52e3-4b9e-8f3d-6a1c2b7e9f04',
  tilesetJobId: '9b2e4f6a-1c3d-4e5f-8a7b-0c9d2e4f6a1b',
  mapId: 'b1e7c3a9-4d2f-4c8e-9a6b-3f5d7e9c1a2b',
  userId: '6c4a2e8f-0b9d-4f1a-8e3c-5d7b9f1a3c6e',
  invitationId: 'inv_8c1d2e3f4a5b6c7d',
  accountId: 'ac_1c9e4f7a2b3d',
  // Postman's dynamic variable: a new UUID each time, for names a run must not reuse.
  $guid: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
};

const VARIABLE = /\{\{(\$?\w+)\}\}/g;
const WHOLE_VARIABLE = /^\{\{(\$?\w+)\}\}$/;

function hasVariable(value: unknown): boolean {
  return JSON.stringify(value)?.includes('{{') ?? false;
}

/** `value` with every known `{{name}}` replaced; a string that is one variable takes its type. */
function documentValue(value: unknown): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_VARIABLE.exec(value)?.[1];
    if (whole !== undefined && DOCUMENT_VALUES[whole] !== undefined) return DOCUMENT_VALUES[whole];
    return value.replace(VARIABLE, (text, name: string) => String(DOCUMENT_VALUES[name] ?? text));
  }
  if (Array.isArray(value)) return value.map(documentValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, documentValue(v)]));
  }
  return value;
}

/** The first value of an `examples` keyword: a list, or OpenAPI's map of `{value}` objects. */
function firstOf(examples: unknown): unknown {
  if (Array.isArray(examples)) return examples[0];
  if (examples && typeof examples === 'object') {
    return (Object.values(examples)[0] as { value?: unknown } | undefined)?.value;
  }
  return undefined;
}

function documentExamples(examples: unknown): unknown {
  if (Array.isArray(examples)) return examples.map(documentValue);
  return Object.fromEntries(
    Object.values(examples as Record<string, { value?: unknown }>).map((example) => {
      const value = documentValue(example.value);
      return [typeof value === 'string' ? value : JSON.stringify(value), { ...example, value }];
    }),
  );
}

/**
 * Rewrites the document in place: wherever an `example` or `examples` holds a Postman
 * variable, the document gets a real value and `x-postman-example` the variable form.
 */
export function publishExamples(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) publishExamples(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const holder = node as Record<string, unknown>;
  if (holder.example !== undefined && hasVariable(holder.example)) {
    holder['x-postman-example'] = holder.example;
    holder.example = documentValue(holder.example);
  }
  if (holder.examples !== undefined && hasVariable(holder.examples)) {
    holder['x-postman-example'] = firstOf(holder.examples);
    holder.examples = documentExamples(holder.examples);
  }
  for (const [key, value] of Object.entries(holder)) {
    if (key !== 'x-postman-example') publishExamples(value);
  }
}
