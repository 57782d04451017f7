/**
 * Reads and checks the bodies of `POST /v3/tokens` and `PATCH /v3/tokens/{token}`. Every bad
 * field is a 400 naming it. Whether a grant's connection exists is checked by the service.
 */
import { errors } from '../http/errors.js';
import { API_NAMES, type ApiName, type TokenGrant } from './api-token-record.js';
import { parseGrantSource } from './grant-source.js';
import { refererProblem } from './referers.js';

const MAX_GRANTS = 100;
const MAX_REFERERS = 100;
const MAX_NAME_LENGTH = 128;
const MAX_SOURCE_LENGTH = 100_000;
const MAX_REFERER_LENGTH = 2048;
const CREATE_FIELDS = ['name', 'grants', 'allowed_apis', 'referers', 'expiration_date'];
const UPDATE_FIELDS = ['name', 'grants', 'allowed_apis', 'referers'];
/** An ISO-8601 date-time with a time zone, as `2030-12-31T00:00:00Z`. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/u;

export interface NewTokenInput {
  name?: string;
  grants: TokenGrant[];
  allowedApis: ApiName[];
  referers: string[];
  expirationDate: string | null;
}

export interface TokenChangesInput {
  name?: string;
  grants?: TokenGrant[];
  allowedApis?: ApiName[];
  referers?: string[];
}

function readBody(body: unknown, fields: readonly string[]): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw errors.malformedBody('expected a JSON object');
  }
  const object = body as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (!fields.includes(key)) {
      throw errors.unsupportedParameter(key, `expected only ${fields.join(', ')}`);
    }
  }
  return object;
}

function readName(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw errors.invalidParameter('name', 'expected a non-empty string');
  }
  if (value.trim().length > MAX_NAME_LENGTH) {
    throw errors.invalidParameter('name', `longer than ${MAX_NAME_LENGTH} characters`);
  }
  // Names are shown in lists, consoles and logs: no line breaks, escapes or invisible controls.
  if (/\p{Cc}/u.test(value)) {
    throw errors.invalidParameter('name', 'control characters are not allowed');
  }
  return value.trim();
}

function readGrants(value: unknown): TokenGrant[] {
  if (value === undefined || value === null) throw errors.missingParameter('grants');
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_GRANTS) {
    throw errors.invalidParameter('grants', `expected a list of 1 to ${MAX_GRANTS} grants`);
  }
  return value.map((item: unknown, index) => {
    const field = `grants[${index}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw errors.invalidParameter(field, 'expected {connection_name, source}');
    }
    const { connection_name: connection, source, ...rest } = item as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) {
      throw errors.unsupportedParameter(`${field}.${extra}`, 'expected connection_name, source');
    }
    if (typeof connection !== 'string' || connection.trim() === '' || connection.length > 256) {
      throw errors.invalidParameter(`${field}.connection_name`, 'expected a connection name');
    }
    if (typeof source !== 'string' || source.trim() === '') {
      throw errors.invalidParameter(`${field}.source`, 'expected a non-empty string');
    }
    if (source.length > MAX_SOURCE_LENGTH) {
      throw errors.invalidParameter(
        `${field}.source`,
        `longer than ${MAX_SOURCE_LENGTH} characters`,
      );
    }
    parseGrantSource(source, `${field}.source`);
    return { connection_name: connection, source: source.trim() };
  });
}

function readAllowedApis(value: unknown): ApiName[] {
  if (value === undefined || value === null) throw errors.missingParameter('allowed_apis');
  const expected = `a non-empty list of ${API_NAMES.join(', ')}`;
  if (!Array.isArray(value) || value.length === 0) {
    throw errors.invalidParameter('allowed_apis', `expected ${expected}`);
  }
  for (const api of value) {
    if (typeof api !== 'string' || !(API_NAMES as readonly string[]).includes(api)) {
      throw errors.invalidParameter('allowed_apis', `expected ${expected}`);
    }
  }
  const apis = [...new Set(value as ApiName[])];
  if (apis.includes('imports') && apis.length > 1) {
    throw errors.invalidParameter('allowed_apis', "'imports' cannot be combined with other APIs");
  }
  return apis;
}

function readReferers(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_REFERERS) {
    throw errors.invalidParameter('referers', `expected a list of at most ${MAX_REFERERS} URLs`);
  }
  return value.map((item: unknown, index) => {
    const field = `referers[${index}]`;
    if (typeof item !== 'string' || item.length > MAX_REFERER_LENGTH) {
      throw errors.invalidParameter(field, 'expected a URL');
    }
    const problem = refererProblem(item.trim());
    if (problem) throw errors.invalidParameter(field, problem);
    return item.trim();
  });
}

function readExpirationDate(value: unknown, nowMs: number): string | null {
  if (value === undefined || value === null) return null;
  const time = typeof value === 'string' && DATE_TIME.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(time)) {
    throw errors.invalidParameter(
      'expiration_date',
      'expected an ISO-8601 date-time such as 2030-12-31T00:00:00Z',
    );
  }
  if (time <= nowMs) throw errors.invalidParameter('expiration_date', 'must be in the future');
  return new Date(time).toISOString();
}

/** The body of `POST /v3/tokens`. */
export function readNewToken(body: unknown, nowMs: number): NewTokenInput {
  const fields = readBody(body, CREATE_FIELDS);
  return {
    name: readName(fields.name),
    grants: readGrants(fields.grants),
    allowedApis: readAllowedApis(fields.allowed_apis),
    referers: readReferers(fields.referers),
    expirationDate: readExpirationDate(fields.expiration_date, nowMs),
  };
}

/** The body of `PATCH /v3/tokens/{token}`: at least one of its fields. */
export function readTokenChanges(body: unknown): TokenChangesInput {
  if (body !== null && typeof body === 'object' && 'expiration_date' in body) {
    throw errors.invalidParameter(
      'expiration_date',
      'can only be set when the token is created; create a new token instead',
    );
  }
  const fields = readBody(body, UPDATE_FIELDS);
  const changes: TokenChangesInput = {};
  if (fields.name !== undefined) {
    const name = readName(fields.name);
    if (name === undefined) throw errors.invalidParameter('name', 'expected a non-empty string');
    changes.name = name;
  }
  if (fields.grants !== undefined) changes.grants = readGrants(fields.grants);
  if (fields.allowed_apis !== undefined) changes.allowedApis = readAllowedApis(fields.allowed_apis);
  if (fields.referers !== undefined) changes.referers = readReferers(fields.referers);
  if (Object.keys(changes).length === 0) {
    throw errors.malformedBody(`expected at least one of ${UPDATE_FIELDS.join(', ')}`);
  }
  return changes;
}
