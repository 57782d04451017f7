/**
 * What an application (an OAuth client of the Developers section) is made of, and the checks
 * of the bodies that create and change one; the URL rules are in application-urls.ts.
 */
import { errors } from '../http/errors.js';
import type { ApplicationType, TokenEndpointAuthMethod } from '../store/schema.js';
import { checkOrigin, checkUrl } from './application-urls.js';

export interface ApplicationSettings {
  name: string;
  description: string;
  url: string;
  thumbnailUrl: string;
  loginUrl: string;
  type: ApplicationType;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  callbackUrls: string[];
  logoutUrls: string[];
  webOrigins: string[];
  corsOrigins: string[];
}

export type ApplicationChanges = Partial<ApplicationSettings>;

export const APPLICATION_TYPES: readonly ApplicationType[] = [
  'single_page',
  'regular_web',
  'machine_to_machine',
];
export const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'client_secret_post',
  'client_secret_basic',
  'none',
];

/** Spellings of CARTO's and Auth0's forms, after lower-casing and joining words with `_`. */
const TYPE_SPELLINGS: Record<string, ApplicationType> = {
  single_page: 'single_page',
  single_page_application: 'single_page',
  spa: 'single_page',
  regular_web: 'regular_web',
  regular_web_application: 'regular_web',
  machine_to_machine: 'machine_to_machine',
  machine_to_machine_application: 'machine_to_machine',
  m2m: 'machine_to_machine',
  non_interactive: 'machine_to_machine',
};
const AUTH_METHOD_SPELLINGS: Record<string, TokenEndpointAuthMethod> = {
  client_secret_post: 'client_secret_post',
  post: 'client_secret_post',
  client_secret_basic: 'client_secret_basic',
  basic: 'client_secret_basic',
  none: 'none',
};

const MAX_NAME_LENGTH = 255;
const MAX_DESCRIPTION_LENGTH = 2000;
const MAX_URL_LENGTH = 2048;
const MAX_LIST_ITEMS = 100;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Body fields and the settings they fill. */
const FIELDS = {
  name: 'name',
  description: 'description',
  url: 'url',
  thumbnail_url: 'thumbnailUrl',
  login_url: 'loginUrl',
  type: 'type',
  token_endpoint_auth_method: 'tokenEndpointAuthMethod',
  callback_urls: 'callbackUrls',
  logout_urls: 'logoutUrls',
  web_origins: 'webOrigins',
  cors_origins: 'corsOrigins',
} as const satisfies Record<string, keyof ApplicationSettings>;

type Field = keyof typeof FIELDS;
type Fields = Record<string, unknown>;

function readObject(body: unknown): Fields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.malformedBody('expected a JSON object');
  }
  // Own keys only: `constructor` or `toString` are no fields, though `in` finds them.
  const unknown = Object.keys(body).find((key) => !Object.hasOwn(FIELDS, key));
  if (unknown !== undefined) {
    throw errors.invalidParameter(unknown, 'not a field of an application');
  }
  return body as Fields;
}

function text(fields: Fields, key: Field, maxLength: number): string | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (value === null) return '';
  if (typeof value !== 'string') throw errors.invalidParameter(key, 'expected a string');
  if (value.length > maxLength) {
    throw errors.invalidParameter(key, `longer than ${maxLength} characters`);
  }
  if (value.includes('\u0000')) throw errors.invalidParameter(key, 'must not contain NUL');
  return value;
}

function readName(fields: Fields): string | undefined {
  const name = text(fields, 'name', MAX_NAME_LENGTH);
  if (name === undefined) return undefined;
  if (name.trim() === '') throw errors.invalidParameter('name', 'must not be empty');
  if (CONTROL_CHARACTERS.test(name)) {
    throw errors.invalidParameter('name', 'must not contain control characters');
  }
  return name;
}

function optionalUrl(fields: Fields, key: Field): string | undefined {
  const value = text(fields, key, MAX_URL_LENGTH);
  return value === undefined || value === '' ? value : checkUrl(value, key);
}

function urlList(
  fields: Fields,
  key: Field,
  check: (value: string, name: string) => string,
): string[] | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (value === null) return [];
  if (!Array.isArray(value)) throw errors.invalidParameter(key, 'expected an array of strings');
  if (value.length > MAX_LIST_ITEMS) {
    throw errors.invalidParameter(key, `at most ${MAX_LIST_ITEMS} entries`);
  }
  const checked = value.map((item: unknown, index) => {
    const name = `${key}[${index}]`;
    if (typeof item !== 'string') throw errors.invalidParameter(name, 'expected a string');
    if (item.length > MAX_URL_LENGTH) {
      throw errors.invalidParameter(name, `longer than ${MAX_URL_LENGTH} characters`);
    }
    return check(item, name);
  });
  return [...new Set(checked)];
}

function spelling<T>(fields: Fields, key: Field, spellings: Record<string, T>, valid: string[]) {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw errors.invalidParameter(key, 'expected a string');
  const normalized = value
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  // Own keys only: a lookup by `in` or `[]` would answer `__proto__` or `constructor` too.
  if (!Object.hasOwn(spellings, normalized)) {
    throw errors.invalidParameter(key, `expected one of ${valid.join(', ')}`);
  }
  return spellings[normalized] as T;
}

function readFields(fields: Fields): ApplicationChanges {
  const changes: ApplicationChanges = {
    name: readName(fields),
    description: text(fields, 'description', MAX_DESCRIPTION_LENGTH),
    url: optionalUrl(fields, 'url'),
    thumbnailUrl: optionalUrl(fields, 'thumbnail_url'),
    loginUrl: optionalUrl(fields, 'login_url'),
    type: spelling(fields, 'type', TYPE_SPELLINGS, [...APPLICATION_TYPES]),
    tokenEndpointAuthMethod: spelling(fields, 'token_endpoint_auth_method', AUTH_METHOD_SPELLINGS, [
      ...AUTH_METHODS,
    ]),
    callbackUrls: urlList(fields, 'callback_urls', checkUrl),
    logoutUrls: urlList(fields, 'logout_urls', checkUrl),
    webOrigins: urlList(fields, 'web_origins', checkOrigin),
    corsOrigins: urlList(fields, 'cors_origins', checkOrigin),
  };
  for (const key of Object.keys(changes) as (keyof ApplicationChanges)[]) {
    if (changes[key] === undefined) delete changes[key];
  }
  return changes;
}

/** `none` means a public client: only a single-page app, which cannot keep a secret, is one. */
function checkAuthMethod(type: ApplicationType, method: TokenEndpointAuthMethod): void {
  if (method === 'none' && type !== 'single_page') {
    throw errors.invalidParameter(
      'token_endpoint_auth_method',
      "'none' is only for single_page applications; use client_secret_post or client_secret_basic",
    );
  }
}

/** The URL lists CARTO's "use default URLs" setting derives from the application URL. */
function defaultsFor(url: string) {
  const origins = url === '' ? [] : [new URL(url).origin];
  const urls = url === '' ? [] : [url];
  return {
    loginUrl: url,
    callbackUrls: urls,
    logoutUrls: urls,
    webOrigins: origins,
    corsOrigins: origins,
  };
}

/** A new application's settings from a request body, or a 400 `ApiError`. */
export function readNewApplication(body: unknown): ApplicationSettings {
  const changes = readFields(readObject(body));
  if (changes.name === undefined) throw errors.missingParameter('name');
  const type = changes.type ?? 'single_page';
  const method =
    changes.tokenEndpointAuthMethod ?? (type === 'single_page' ? 'none' : 'client_secret_post');
  checkAuthMethod(type, method);
  const url = changes.url ?? '';
  return {
    ...defaultsFor(url),
    description: '',
    thumbnailUrl: '',
    ...changes,
    name: changes.name,
    url,
    type,
    tokenEndpointAuthMethod: method,
  };
}

/** The fields a PATCH body changes, or a 400 `ApiError`. */
export function readApplicationChanges(body: unknown): ApplicationChanges {
  const changes = readFields(readObject(body));
  if (Object.keys(changes).length === 0) throw errors.malformedBody('nothing to change');
  return changes;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/**
 * An application's settings after a change. Settings still at the defaults of the old URL
 * follow a new URL, as CARTO's "use default URLs" setting does; changed ones are kept.
 */
export function applyApplicationChanges(
  current: ApplicationSettings,
  changes: ApplicationChanges,
): ApplicationSettings {
  const next: ApplicationSettings = { ...current, ...changes };
  if (changes.url !== undefined && changes.url !== current.url) {
    const before = defaultsFor(current.url);
    const after = defaultsFor(changes.url);
    if (changes.loginUrl === undefined && current.loginUrl === before.loginUrl) {
      next.loginUrl = after.loginUrl;
    }
    for (const key of ['callbackUrls', 'logoutUrls', 'webOrigins', 'corsOrigins'] as const) {
      if (changes[key] === undefined && sameList(current[key], before[key])) next[key] = after[key];
    }
  }
  if (changes.type !== undefined && changes.tokenEndpointAuthMethod === undefined) {
    if (next.tokenEndpointAuthMethod === 'none' && next.type !== 'single_page') {
      throw errors.invalidParameter(
        'token_endpoint_auth_method',
        `a ${next.type} application needs client_secret_post or client_secret_basic; send it too`,
      );
    }
  }
  checkAuthMethod(next.type, next.tokenEndpointAuthMethod);
  return next;
}
