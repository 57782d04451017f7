/**
 * Referer checks of API access tokens. A token's referers are origins
 * (`https://app.example.com`, also `https://*.example.com` for any subdomain) or URL prefixes
 * (`https://example.com/maps/`). Browsers send `Origin` on cross-origin calls and, by default,
 * cut `Referer` down to the origin there; a value without a path is therefore taken as
 * matching any prefix of its origin.
 */

/** Why a referer is not acceptable in a token, or undefined when it is. */
export function refererProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'expected an absolute URL such as https://app.example.com';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'expected an http(s) URL';
  if (url.username || url.password) return 'a referer carries no credentials';
  if (url.search || url.hash) return 'a referer is an origin or a URL prefix, without ? or #';
  if (url.hostname.includes('*') && !/^\*\.[^*]+$/u.test(url.hostname)) {
    return "a wildcard is only allowed as the first label, as in 'https://*.example.com'";
  }
  return undefined;
}

function hostMatches(allowedHost: string, host: string): boolean {
  if (allowedHost.startsWith('*.')) return host.endsWith(allowedHost.slice(1));
  return host === allowedHost;
}

/** Whether one request header value (an `Origin` or a `Referer`) matches an allowed referer. */
export function refererMatches(allowed: string, value: string): boolean {
  let rule: URL;
  let actual: URL;
  try {
    rule = new URL(allowed);
    actual = new URL(value);
  } catch {
    return false;
  }
  if (rule.protocol !== actual.protocol || rule.port !== actual.port) return false;
  if (!hostMatches(rule.hostname, actual.hostname)) return false;
  // An origin-only value (an Origin header, a referer cut to its origin) cannot be compared
  // with a path prefix; it matches on its origin.
  if (rule.pathname === '/' || actual.pathname === '/') return true;
  const prefix = rule.pathname;
  if (actual.pathname === prefix) return true;
  if (!actual.pathname.startsWith(prefix)) return false;
  return prefix.endsWith('/') || actual.pathname[prefix.length] === '/';
}

/**
 * Whether a request with these `Origin` and `Referer` headers passes the token's referers:
 * at least one header is sent, and each one sent matches an allowed referer (a full referer
 * outside an allowed prefix fails even when the origin alone would pass).
 */
export function isRefererAllowed(
  referers: readonly string[],
  headers: { origin?: string; referer?: string },
): boolean {
  if (referers.length === 0) return true;
  const values = [headers.referer, headers.origin].filter(
    (value): value is string => typeof value === 'string' && value !== '' && value !== 'null',
  );
  if (values.length === 0) return false;
  return values.every((value) => referers.some((allowed) => refererMatches(allowed, value)));
}
