import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';

/**
 * The parameters of a CARTO API call: the query string, overlaid with the body for POST.
 * CARTO's clients send GET with everything in the query string (objects JSON-encoded), and
 * switch to POST with a JSON body when the URL grows too long, so both must read the same.
 */
export function readParameters(request: FastifyRequest): Record<string, unknown> {
  const query = (request.query ?? {}) as Record<string, unknown>;
  if (request.method !== 'POST' || request.body === undefined || request.body === null) {
    return { ...query };
  }
  if (typeof request.body !== 'object' || Array.isArray(request.body)) {
    throw errors.malformedBody('expected a JSON object');
  }
  return { ...query, ...(request.body as Record<string, unknown>) };
}

/** A string parameter, or undefined when absent or empty. */
export function optionalString(params: Record<string, unknown>, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw errors.invalidParameter(name, 'expected a string');
  return value;
}

export function requiredString(params: Record<string, unknown>, name: string): string {
  const value = optionalString(params, name);
  if (value === undefined || value.trim() === '') throw errors.missingParameter(name);
  return value;
}

/**
 * A parameter holding JSON: a real value in a POST body, a JSON string in a query string.
 * Returns undefined when absent or the empty string (CARTO's model client sends '').
 */
export function optionalJson(params: Record<string, unknown>, name: string): unknown {
  const value = params[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value) as unknown;
  } catch {
    throw errors.invalidParameter(name, 'expected JSON');
  }
  if (jsonDepthExceeds(parsed, MAX_JSON_DEPTH)) {
    throw errors.invalidParameter(name, `nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return parsed;
}

/** Deepest nesting of arrays and objects a request may carry (a map's config needs ~15). */
export const MAX_JSON_DEPTH = 64;

/**
 * True when a parsed JSON value nests arrays and objects deeper than `limit`. Walked with an
 * explicit stack: deeper values would overflow the call stack of anything recursive later
 * (JSON.stringify among them).
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Positional bind values for `$1..$n`: a JSON array. Named parameters are not PostgreSQL's.
 * Objects and arrays among the values are bound as their JSON text, so they can be cast to
 * json in SQL instead of arriving as "[object Object]".
 */
export function readQueryParameters(params: Record<string, unknown>): unknown[] {
  const value = optionalJson(params, 'queryParameters');
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    return value.map((item) =>
      item !== null && typeof item === 'object' ? JSON.stringify(item) : item,
    );
  }
  if (typeof value === 'object' && Object.keys(value).length === 0) return [];
  throw errors.invalidParameter(
    'queryParameters',
    'this connection binds positional parameters ($1, $2, ...): send a JSON array',
  );
}
