/**
 * The checks the Applications API makes, made before sending where they are cheap: the URL
 * and origin rules are the server's own code (src/apps/application-urls.ts). The server
 * checks again and its message is shown when it refuses.
 */
import { checkOrigin, checkUrl } from '../../../../src/apps/application-urls.js';
import type { Application, ApplicationType, AuthMethod } from '../../api/types.js';

const MAX_NAME_LENGTH = 255;
const MAX_DESCRIPTION_LENGTH = 2000;
const MAX_URL_LENGTH = 2048;
const MAX_LIST_ITEMS = 100;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export const TYPE_LABELS: Record<ApplicationType, string> = {
  single_page: 'Single Page Application',
  regular_web: 'Regular Web Application',
  machine_to_machine: 'Machine to Machine',
};

export const AUTH_METHOD_LABELS: Record<AuthMethod, string> = {
  none: 'None (PKCE, no secret)',
  client_secret_post: 'Post (secret in the form body)',
  client_secret_basic: 'Basic (HTTP Basic authentication)',
};

/** What the form holds: the lists as text, one URL a line. */
export interface ApplicationFormValues {
  name: string;
  description: string;
  url: string;
  type: ApplicationType;
  authMethod: AuthMethod;
  callbackUrls: string;
  logoutUrls: string;
  webOrigins: string;
  corsOrigins: string;
}

export type ApplicationFormErrors = Partial<Record<keyof ApplicationFormValues, string>>;

export function defaultAuthMethod(type: ApplicationType): AuthMethod {
  return type === 'single_page' ? 'none' : 'client_secret_post';
}

export function emptyApplicationForm(type: ApplicationType): ApplicationFormValues {
  return {
    name: '',
    description: '',
    url: '',
    type,
    authMethod: defaultAuthMethod(type),
    callbackUrls: '',
    logoutUrls: '',
    webOrigins: '',
    corsOrigins: '',
  };
}

export function applicationFormOf(application: Application): ApplicationFormValues {
  return {
    name: application.name,
    description: application.description,
    url: application.url,
    type: application.type,
    authMethod: application.token_endpoint_auth_method,
    callbackUrls: application.callback_urls.join('\n'),
    logoutUrls: application.logout_urls.join('\n'),
    webOrigins: application.web_origins.join('\n'),
    corsOrigins: application.cors_origins.join('\n'),
  };
}

/** The entries of a list field: one a line, blank lines ignored. */
export function listOf(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/**
 * The message of the API's own check of a value (the server's URL rules, bundled into the
 * console), without the parameter name it starts with; null when the value passes.
 */
function problemOf(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return message.replace(/^Invalid parameter '[^']*': /, '');
  }
}

/** What is wrong with a URL by the API's rules, or null. */
export function urlProblem(value: string): string | null {
  if (value.length > MAX_URL_LENGTH) return `longer than ${MAX_URL_LENGTH} characters`;
  return problemOf(() => checkUrl(value, 'url'));
}

/** What is wrong with an origin (`scheme://host[:port]`), or null. */
export function originProblem(value: string): string | null {
  if (value.length > MAX_URL_LENGTH) return `longer than ${MAX_URL_LENGTH} characters`;
  return problemOf(() => checkOrigin(value, 'origin'));
}

function listProblem(text: string, check: (value: string) => string | null): string | undefined {
  const entries = listOf(text);
  if (entries.length > MAX_LIST_ITEMS) return `At most ${MAX_LIST_ITEMS} entries.`;
  for (const [index, entry] of entries.entries()) {
    const problem = check(entry);
    if (problem) return `Line ${index + 1}: ${problem}.`;
  }
  return undefined;
}

/** The form's problems by field; empty when it may be sent. */
export function checkApplicationForm(values: ApplicationFormValues): ApplicationFormErrors {
  const errors: ApplicationFormErrors = {};
  const name = values.name;
  if (name.trim() === '') errors.name = 'Enter a name.';
  else if (name.length > MAX_NAME_LENGTH) errors.name = `At most ${MAX_NAME_LENGTH} characters.`;
  else if (CONTROL_CHARACTERS.test(name)) errors.name = 'No control characters.';
  if (values.description.length > MAX_DESCRIPTION_LENGTH) {
    errors.description = `At most ${MAX_DESCRIPTION_LENGTH} characters.`;
  }
  const url = values.url.trim();
  const problem = url === '' ? null : urlProblem(url);
  if (problem) errors.url = `${problem[0]!.toUpperCase()}${problem.slice(1)}.`;
  if (values.authMethod === 'none' && values.type !== 'single_page') {
    errors.authMethod = 'None is only for single-page applications, which cannot keep a secret.';
  }
  const lists = [
    ['callbackUrls', urlProblem],
    ['logoutUrls', urlProblem],
    ['webOrigins', originProblem],
    ['corsOrigins', originProblem],
  ] as const;
  // Machine to Machine applications sign nobody in: the form hides their lists.
  if (values.type === 'machine_to_machine') return errors;
  for (const [field, check] of lists) {
    const listError = listProblem(values[field], check);
    if (listError) errors[field] = listError;
  }
  return errors;
}

/** The body of `POST /v3/applications`: empty lists are left to the server's defaults. */
export function newApplicationBody(values: ApplicationFormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: values.name,
    type: values.type,
    token_endpoint_auth_method: values.authMethod,
  };
  if (values.description !== '') body.description = values.description;
  if (values.url.trim() !== '') body.url = values.url.trim();
  if (values.type === 'machine_to_machine') return body;
  const lists = {
    callback_urls: values.callbackUrls,
    logout_urls: values.logoutUrls,
    web_origins: values.webOrigins,
    cors_origins: values.corsOrigins,
  };
  for (const [field, text] of Object.entries(lists)) {
    const entries = listOf(text);
    if (entries.length > 0) body[field] = entries;
  }
  return body;
}

/** The body of `PATCH /v3/applications/{id}`: the fields that changed (null clears). */
export function changedApplicationBody(
  before: ApplicationFormValues,
  after: ApplicationFormValues,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (after.name !== before.name) body.name = after.name;
  if (after.description !== before.description) body.description = after.description || null;
  if (after.url.trim() !== before.url) body.url = after.url.trim() || null;
  if (after.type !== before.type) body.type = after.type;
  if (after.authMethod !== before.authMethod || after.type !== before.type) {
    body.token_endpoint_auth_method = after.authMethod;
  }
  const lists = [
    ['callback_urls', 'callbackUrls'],
    ['logout_urls', 'logoutUrls'],
    ['web_origins', 'webOrigins'],
    ['cors_origins', 'corsOrigins'],
  ] as const;
  for (const [field, key] of lists) {
    const entries = listOf(after[key]);
    if (entries.join('\n') !== listOf(before[key]).join('\n')) {
      body[field] = entries.length > 0 ? entries : null;
    }
  }
  return body;
}
