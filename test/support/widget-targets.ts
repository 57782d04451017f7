/**
 * Where the widget tests run: a connection name plus a way to create fixture tables on it
 * (the SQL API on the embedded warehouse, the superuser on the PostgreSQL test cluster), and
 * a way to read expected figures with SQL written by the test itself.
 */
import { randomBytes } from 'node:crypto';
import { query, type QueryParameters } from '@carto/api-client';
import { runAsSuperuser, type PostgresInfo } from './postgres.js';

export interface WidgetTarget {
  connectionName: string;
  /** Runs setup statements (DDL, inserts) one at a time, then lets the API role read `tables`. */
  setUp(statements: string[], tables: string[]): Promise<void>;
}

/** A table name no other test uses, with `prefix` kept (case included). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** The embedded warehouse: fixtures go through the SQL API, one statement per request. */
export function embeddedTarget(baseUrl: string, token: () => string): WidgetTarget {
  return {
    connectionName: 'carto_dw',
    async setUp(statements) {
      for (const statement of statements) {
        const response = await fetch(`${baseUrl}/v3/sql/carto_dw/query`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token()}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ q: statement }),
        });
        if (response.status !== 200) {
          throw new Error(`fixture statement failed (${response.status}): ${statement}
${await response.text()}`);
        }
      }
    },
  };
}

/** A PostgreSQL connection of the test cluster: fixtures are created by the superuser. */
export function postgresTarget(info: PostgresInfo, connectionName: string): WidgetTarget {
  return {
    connectionName,
    async setUp(statements, tables) {
      for (const statement of statements) await runAsSuperuser(info, statement);
      for (const table of tables) {
        await runAsSuperuser(info, `GRANT SELECT ON ${table} TO ${info.username}`);
      }
    },
  };
}

/** Runs a SQL statement through the SQL API with CARTO's client and returns its rows. */
export async function sqlRows<Row = Record<string, unknown>>(
  baseUrl: string,
  accessToken: string,
  connectionName: string,
  sqlQuery: string,
  queryParameters?: QueryParameters,
): Promise<Row[]> {
  const result = await query({
    apiBaseUrl: baseUrl,
    accessToken,
    connectionName,
    sqlQuery,
    ...(queryParameters ? { queryParameters } : {}),
  });
  return result.rows as Row[];
}

/** A raw call of the SQL Model API, as CARTO's client builds it, for what it cannot send. */
export async function callModel(
  baseUrl: string,
  accessToken: string,
  connectionName: string,
  model: string,
  fields: Record<string, unknown>,
  method: 'GET' | 'POST' = 'GET',
): Promise<{ status: number; text: string; body: any }> {
  const url = `${baseUrl}/v3/sql/${connectionName}/model/${model}`;
  const encoded = Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
  const response =
    method === 'GET'
      ? await fetch(`${url}?${new URLSearchParams(encoded).toString()}`, {
          headers: { Authorization: `Bearer ${accessToken}` },
        })
      : await fetch(url, {
          method: 'POST',
          headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(fields),
        });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, text, body };
}
