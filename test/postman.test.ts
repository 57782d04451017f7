/**
 * The committed Postman collection: generated from the current OpenAPI document, and passing
 * when newman runs it against the shared server (demo data loaded, the throwaway PostgreSQL
 * cluster as the Connections examples' database).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import newman from 'newman';
import type { CollectionDefinition, VariableScopeDefinition } from 'postman-collection';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  documentedOperations,
  findUndefinedVariables,
  generatePostman,
  operationItemId,
  type OpenApiDocument,
  type PostmanCollection,
  type PostmanEnvironment,
} from '../src/openapi/postman.js';
import { fetchToken, sharedServer } from './support/api.js';
import { fetchOpenApi } from './support/openapi-check.js';
import { describeWithPostgres, type PostgresInfo } from './support/postgres.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REGENERATE = 'The committed Postman files are out of date: run `npm run postman:generate`';

function readCommitted<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(ROOT, 'postman', name), 'utf8')) as T;
}

const committedCollection = () =>
  readCommitted<PostmanCollection>('Graticule.postman_collection.json');
const committedEnvironment = () =>
  readCommitted<PostmanEnvironment>('Graticule.postman_environment.json');

interface NewmanFailure {
  error: { name?: string; test?: string; message?: string };
  source?: { name?: string };
  parent?: { name?: string };
  at?: string;
}

interface NewmanSummary {
  run: {
    stats: Record<'requests' | 'assertions', { total: number; failed: number }>;
    failures: NewmanFailure[];
    executions: { item: { id: string; name: string }; requestError?: { message: string } }[];
  };
}

function runNewman(
  collection: PostmanCollection,
  environment: PostmanEnvironment,
): Promise<NewmanSummary> {
  return new Promise((resolve, reject) => {
    newman.run(
      {
        // The generator's own types describe the same v2.1 JSON as the SDK's definitions.
        collection: collection as unknown as CollectionDefinition,
        environment: environment as unknown as VariableScopeDefinition,
        reporters: [],
        timeoutRequest: 60_000,
      },
      (error, summary) => (error ? reject(error) : resolve(summary as unknown as NewmanSummary)),
    );
  });
}

/** The committed environment with this run's server, credentials and database. */
function filledEnvironment(postgres: PostgresInfo): PostmanEnvironment {
  const { baseUrl, clientId, clientSecret } = sharedServer();
  const values: Record<string, string> = {
    apiBaseURL: baseUrl,
    clientId,
    clientSecret,
    pgHost: postgres.host,
    pgPort: String(postgres.port),
    pgDatabase: postgres.database,
    pgUser: postgres.username,
    pgPassword: postgres.password,
  };
  const environment = committedEnvironment();
  return {
    ...environment,
    values: environment.values.map((entry) => ({
      ...entry,
      value: values[entry.key] ?? entry.value,
    })),
  };
}

/** What the collection creates and must delete again: the ids in the account's lists. */
const LISTS = [
  '/v3/connections',
  '/v3/tokens',
  '/v3/applications',
  '/v3/maps',
  '/v3/account/users',
];

async function accountObjects(): Promise<Record<string, string[]>> {
  const { baseUrl, clientId, clientSecret } = sharedServer();
  const token = await fetchToken(baseUrl, clientId, clientSecret);
  const snapshot: Record<string, string[]> = {};
  for (const list of LISTS) {
    const response = await fetch(`${baseUrl}${list}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as { data?: { id?: string; client_id?: string }[] };
    snapshot[list] = (body.data ?? []).map((entry) => String(entry.id ?? entry.client_id)).sort();
  }
  return snapshot;
}

describe('the committed Postman collection', () => {
  let document: OpenApiDocument;
  beforeAll(async () => {
    document = (await fetchOpenApi(sharedServer().baseUrl)) as unknown as OpenApiDocument;
  });

  it('is what the generator makes from the OpenAPI document', () => {
    const generated = generatePostman(document);

    expect(committedCollection(), REGENERATE).toEqual(generated.collection);
    expect(committedEnvironment(), REGENERATE).toEqual(generated.environment);
  });

  it('holds every documented operation not marked skip', () => {
    const ids = committedCollection().item.flatMap((folder) => folder.item.map((item) => item.id));
    const missing = documentedOperations(document)
      .filter(({ operation }) => operation['x-postman'] !== 'skip')
      .filter(({ method, path, operation }) => {
        return !ids.includes(operationItemId(method, path, operation.operationId));
      })
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`);

    expect(missing, REGENERATE).toEqual([]);
  });

  it('is served for download, pointing at the server', async () => {
    const { baseUrl } = sharedServer();
    const expected = generatePostman(document, { apiBaseUrl: baseUrl });
    const files = {
      collection: 'Graticule.postman_collection.json',
      environment: 'Graticule.postman_environment.json',
    };

    for (const [kind, fileName] of Object.entries(files)) {
      const response = await fetch(`${baseUrl}/postman/${kind}.json`);

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('content-disposition')).toBe(
        `attachment; filename="${fileName}"`,
      );
      expect(await response.json()).toEqual(expected[kind as keyof typeof files]);
    }
    expect(expected.environment.values[0]).toMatchObject({ key: 'apiBaseURL', value: baseUrl });
    expect(Object.keys(document.paths ?? {}).filter((p) => p.startsWith('/postman'))).toEqual([]);
  });

  it('sets every variable before a request uses it', () => {
    expect(findUndefinedVariables(committedCollection(), committedEnvironment())).toEqual([]);
  });
});

describeWithPostgres('newman running the committed Postman collection', (postgres) => {
  let summary: NewmanSummary;
  let before: Record<string, string[]>;
  let after: Record<string, string[]>;
  beforeAll(async () => {
    before = await accountObjects();
    summary = await runNewman(committedCollection(), filledEnvironment(postgres));
    after = await accountObjects();
  });

  it('passes every assertion without request errors', () => {
    const failures = summary.run.failures.map(
      (failure) =>
        `${failure.parent?.name ?? ''} / ${failure.source?.name ?? '(collection)'}: ` +
        `${failure.error.test ?? failure.error.name ?? 'error'}: ${failure.error.message ?? ''}`,
    );
    const requestErrors = summary.run.executions
      .filter((execution) => execution.requestError)
      .map((execution) => `${execution.item.name}: ${execution.requestError!.message}`);

    expect(failures).toEqual([]);
    expect(requestErrors).toEqual([]);
    expect(summary.run.stats.assertions.failed).toBe(0);
    expect(summary.run.stats.requests.failed).toBe(0);
    expect(summary.run.stats.assertions.total).toBeGreaterThan(0);
  });

  it('runs every request of the collection', () => {
    const items = committedCollection().item.flatMap((folder) => folder.item);
    const ran = new Set(summary.run.executions.map((execution) => execution.item.id));

    expect(items.filter((item) => !ran.has(item.id)).map((item) => item.name)).toEqual([]);
  });

  it('deletes what it creates', () => {
    expect(after).toEqual(before);
  });
});
