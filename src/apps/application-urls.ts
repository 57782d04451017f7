/**
 * The URL rules of applications' settings. Callback and logout URLs are exact URLs, web and
 * CORS origins are `scheme://host[:port]`, as in Auth0's advanced settings that CARTO's form
 * mirrors.
 */
import { errors } from '../http/errors.js';

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

function parseAbsoluteUrl(value: string, name: string): URL {
  if (value !== value.trim() || /\s/.test(value)) {
    throw errors.invalidParameter(name, 'must not contain spaces');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw errors.invalidParameter(name, `'${value.slice(0, 100)}' is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw errors.invalidParameter(name, 'only http and https URLs are allowed');
  }
  if (url.username !== '' || url.password !== '') {
    throw errors.invalidParameter(name, 'a URL must not carry a user name or password');
  }
  if (value.includes('#')) throw errors.invalidParameter(name, 'a URL must not have a fragment');
  // Plain http would hand codes and tokens to anyone on the network path; loopback is local.
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.includes(url.hostname)) {
    throw errors.invalidParameter(
      name,
      'http is allowed only for localhost, 127.0.0.1 and [::1]; use https',
    );
  }
  return url;
}

/** An absolute http(s) URL, kept as written: OAuth compares redirect URIs exactly. */
export function checkUrl(value: string, name: string): string {
  parseAbsoluteUrl(value, name);
  return value;
}

/** An origin, `scheme://host[:port]`, in its normalized form. */
export function checkOrigin(value: string, name: string): string {
  const url = parseAbsoluteUrl(value, name);
  const pathStart = value.indexOf('/', url.protocol.length + 2);
  const path = pathStart < 0 ? '' : value.slice(pathStart);
  if (url.pathname !== '/' || value.includes('?') || !['', '/'].includes(path)) {
    throw errors.invalidParameter(name, 'an origin has no path or query: scheme://host[:port]');
  }
  return url.origin;
}
