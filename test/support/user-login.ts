/**
 * Signs a user in through Graticule's authorization code flow with plain HTTP requests (no
 * browser): the authorization request, the sign-in form, the redirects back and the code
 * exchange, with PKCE, driven by the standard OAuth client openid-client.
 */
import * as oidc from 'openid-client';

const insecure = { execute: [oidc.allowInsecureRequests] };

/** A cookie jar keyed by cookie name; the flow's cookies have distinct names. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const equals = pair.indexOf('=');
      if (equals <= 0) continue;
      const name = pair.slice(0, equals).trim();
      const value = pair.slice(equals + 1).trim();
      if (value === '' || /;\s*max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** Follows redirects by hand, carrying cookies, until one leaves for `stopAt`'s origin. */
async function followUntil(
  start: URL,
  stopAt: string,
  jar: CookieJar,
  first?: RequestInit,
): Promise<{ url: URL; response: Response }> {
  let url = start;
  let init: RequestInit | undefined = first;
  for (let hop = 0; hop < 10; hop += 1) {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init?.headers as Record<string, string>), Cookie: jar.header() },
    });
    jar.store(response);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) {
      return { url, response };
    }
    await response.arrayBuffer();
    url = new URL(location, url);
    init = undefined;
    if (url.href.startsWith(stopAt)) return { url, response };
  }
  throw new Error(`too many redirects from ${start.href}`);
}

export interface UserLogin {
  baseUrl: string;
  /** A single-page application of the user's account, allowing `redirectUri`. */
  clientId: string;
  /** Never requested: the flow stops at the redirect to it. */
  redirectUri: string;
  email: string;
  password: string;
}

/** The access token of a signed-in user, as a single-page application receives it. */
export async function signInUser(login: UserLogin): Promise<string> {
  const config = await oidc.discovery(
    new URL(login.baseUrl),
    login.clientId,
    undefined,
    oidc.None(),
    insecure,
  );
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: login.redirectUri,
    scope: 'openid profile email',
    audience: 'carto-cloud-native-api',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const jar = new CookieJar();
  const toLogin = await followUntil(authorizationUrl, login.redirectUri, jar);
  const loginPage = toLogin.response;
  const page = await loginPage.text();
  if (loginPage.status !== 200 || !toLogin.url.pathname.startsWith('/login/')) {
    throw new Error(`expected the sign-in page, got ${loginPage.status} at ${toLogin.url.href}`);
  }
  const back = await followUntil(toLogin.url, login.redirectUri, jar, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: login.email, password: login.password }).toString(),
  });
  if (!back.url.href.startsWith(login.redirectUri)) {
    const text = await back.response.text().catch(() => page);
    throw new Error(`sign-in did not return to the application (${back.response.status}): ${text}`);
  }
  const tokens = await oidc.authorizationCodeGrant(config, back.url, {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  return tokens.access_token;
}
