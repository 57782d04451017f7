/**
 * The Tokens API's rules, checked before sending where cheap: at least one grant, allowed
 * APIs (`imports` alone), referers that are URLs, an expiration date in the future.
 */
import { refererProblem } from '../../../../src/tokens/referers.js';
import type { ApiName, Grant } from '../../api/types.js';

export const API_NAMES: readonly ApiName[] = ['sql', 'maps', 'imports', 'lds'];

export const API_LABELS: Record<ApiName, string> = {
  sql: 'SQL API',
  maps: 'Maps API',
  imports: 'Imports API',
  lds: 'Location Data Services',
};

const MAX_NAME_LENGTH = 128;
const MAX_GRANTS = 100;
const MAX_REFERERS = 100;

export interface TokenFormValues {
  name: string;
  grants: Grant[];
  allowedApis: ApiName[];
  /** One origin or URL prefix a line. */
  referers: string;
  /** A `datetime-local` value (local time), or empty for no expiration. */
  expiration: string;
  /** The connection the table list shows. */
  connection: string;
  /** A source being typed: a query, a pattern or a name. */
  freeSource: string;
}

export type TokenFormErrors = Partial<
  Record<'name' | 'grants' | 'allowedApis' | 'referers' | 'expiration', string>
>;

export function emptyTokenForm(connection: string): TokenFormValues {
  return {
    name: '',
    grants: [],
    allowedApis: ['maps'],
    referers: '',
    expiration: '',
    connection,
    freeSource: '',
  };
}

const lines = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

export function sameGrant(a: Grant, b: Grant): boolean {
  return a.connection_name === b.connection_name && a.source === b.source;
}

/**
 * Whether a grant's source is a SQL query: text with white space outside quoted names
 * (`public."Mixed Case"` is a table).
 */
export function isQuerySource(source: string): boolean {
  return /\s/.test(source.trim().replace(/"(?:[^"]|"")*"/g, '""'));
}

/** Whether a grant's source is a pattern (`*`, `schema.*`). */
export function isPatternSource(source: string): boolean {
  return source.trim().endsWith('*');
}

export function checkTokenForm(values: TokenFormValues, nowMs: number): TokenFormErrors {
  const errors: TokenFormErrors = {};
  if (values.name.trim().length > MAX_NAME_LENGTH) {
    errors.name = `At most ${MAX_NAME_LENGTH} characters.`;
  }
  if (values.grants.length === 0) errors.grants = 'Grant at least one table, pattern or query.';
  else if (values.grants.length > MAX_GRANTS) errors.grants = `At most ${MAX_GRANTS} grants.`;
  if (values.allowedApis.length === 0) errors.allowedApis = 'Allow at least one API.';
  else if (values.allowedApis.includes('imports') && values.allowedApis.length > 1) {
    errors.allowedApis = 'The Imports API cannot be combined with other APIs.';
  }
  const referers = lines(values.referers);
  if (referers.length > MAX_REFERERS) errors.referers = `At most ${MAX_REFERERS} referers.`;
  // The Tokens API's own referer rule (src/tokens/referers.ts), bundled into the console.
  const badReferer = referers.findIndex((referer) => refererProblem(referer) !== undefined);
  if (badReferer >= 0) {
    errors.referers = `Line ${badReferer + 1}: ${refererProblem(referers[badReferer]!)}.`;
  }
  if (values.expiration !== '') {
    const time = new Date(values.expiration).getTime();
    if (Number.isNaN(time)) errors.expiration = 'Enter a date and time.';
    else if (time <= nowMs) errors.expiration = 'The expiration must be in the future.';
  }
  return errors;
}

/** The body of `POST /v3/tokens`. */
export function newTokenBody(values: TokenFormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {
    grants: values.grants,
    allowed_apis: values.allowedApis,
  };
  if (values.name.trim() !== '') body.name = values.name.trim();
  const referers = lines(values.referers);
  if (referers.length > 0) body.referers = referers;
  if (values.expiration !== '') body.expiration_date = new Date(values.expiration).toISOString();
  return body;
}

/** Whether a token's grants cover `demo.countries` of `carto_dw`, the preview's base map. */
export function grantsCoverBasemap(grants: readonly Grant[]): boolean {
  return grants.some(
    (grant) =>
      grant.connection_name === 'carto_dw' &&
      ['*', 'demo.*', 'demo.countries'].includes(grant.source.trim().toLowerCase()),
  );
}
