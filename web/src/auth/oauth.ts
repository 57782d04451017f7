/**
 * Sign-in of the console, Graticule's built-in public OAuth client `graticule-console`:
 * authorization code with PKCE (S256) against the server that serves the console, through
 * oauth4webapi. The access token lives in sessionStorage: it is gone when the tab closes.
 */
import * as oauth from 'oauth4webapi';

export const CLIENT_ID = 'graticule-console';
/** What CARTO's apps ask for; the server grants API scopes by the user's role. */
const SCOPE = 'openid profile email';
/** Auth0's name for the API, which CARTO's apps send and Graticule checks. */
const AUDIENCE = 'carto-cloud-native-api';

const TOKEN_KEY = 'graticule.console.token';
const PENDING_KEY = 'graticule.console.signin';

const client: oauth.Client = { client_id: CLIENT_ID, token_endpoint_auth_method: 'none' };

/**
 * oauth4webapi refuses plain http unless told; Graticule runs on http on a laptop (loopback),
 * and a deployment that serves the console over http serves its OAuth server there too.
 */
const requestOptions = { [oauth.allowInsecureRequests]: location.protocol === 'http:' };

export interface StoredToken {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** When this sign-in finished, to tell a refused fresh token from an expired one. */
  signedInAt: number;
}

interface PendingSignIn {
  verifier: string;
  state: string;
  returnTo: string;
}

let discovery: Promise<oauth.AuthorizationServer> | undefined;

/**
 * The OAuth server's metadata, from `/.well-known/openid-configuration` of this page's origin.
 * The issuer it names may be another origin (`localhost` for `127.0.0.1`): the metadata must
 * then be consistent with that issuer.
 */
export function discover(): Promise<oauth.AuthorizationServer> {
  discovery ??= (async () => {
    const response = await oauth.discoveryRequest(new URL(location.origin), requestOptions);
    const { issuer } = (await response.clone().json()) as { issuer?: unknown };
    if (typeof issuer !== 'string') {
      throw new Error("The server's OpenID configuration names no issuer");
    }
    return oauth.processDiscoveryResponse(new URL(issuer), response);
  })().catch((error: unknown) => {
    discovery = undefined;
    throw error;
  });
  return discovery;
}

/** The console's address below the issuer, as the server registered it (no trailing slash). */
export function consoleBase(as: oauth.AuthorizationServer): string {
  return `${as.issuer.replace(/\/+$/, '')}/ui`;
}

/**
 * Tokens, sessions and the redirect URI belong to the issuer's origin. When this page was
 * opened on another one (localhost for 127.0.0.1), go to the same page there; true when the
 * browser is leaving.
 */
export function moveToIssuerOrigin(as: oauth.AuthorizationServer): boolean {
  const issuerOrigin = new URL(as.issuer).origin;
  if (issuerOrigin === location.origin) return false;
  location.replace(`${issuerOrigin}${location.pathname}${location.search}${location.hash}`);
  return true;
}

export function readToken(): StoredToken | null {
  try {
    const stored = JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? 'null') as StoredToken | null;
    return stored && typeof stored.accessToken === 'string' ? stored : null;
  } catch {
    return null;
  }
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Never settles: for callers that wait while the browser leaves the page. */
const leaving = () => new Promise<never>(() => undefined);

/** Sends the browser to the sign-in page; it comes back to `returnTo` (a console path). */
export async function startSignIn(returnTo: string): Promise<never> {
  const as = await discover();
  if (moveToIssuerOrigin(as)) return leaving();
  if (!as.authorization_endpoint) throw new Error('The server offers no authorization endpoint');
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const pending: PendingSignIn = { verifier, state, returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: `${consoleBase(as)}/callback`,
    response_type: 'code',
    scope: SCOPE,
    audience: AUDIENCE,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  }).toString();
  location.assign(url.href);
  return leaving();
}

/** Why a sign-in failed, in words for the page. */
function describeSignInError(error: unknown): string {
  if (error instanceof oauth.AuthorizationResponseError) {
    return `The sign-in was refused: ${error.error_description ?? error.error}`;
  }
  if (error instanceof oauth.ResponseBodyError) {
    return `The token request was refused (${error.status}): ${
      error.error_description ?? error.error
    }`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Finishes a sign-in on the callback page: checks the state, exchanges the code with the PKCE
 * verifier, keeps the access token. Answers the console path to return to.
 */
export async function completeSignIn(callbackUrl: URL): Promise<string> {
  const text = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const pending = text ? (JSON.parse(text) as PendingSignIn) : null;
  if (!pending) throw new Error('This sign-in was not started in this tab, or has finished.');
  try {
    const as = await discover();
    const params = oauth.validateAuthResponse(as, client, callbackUrl, pending.state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      params,
      `${consoleBase(as)}/callback`,
      pending.verifier,
      requestOptions,
    );
    const result = await oauth.processAuthorizationCodeResponse(as, client, response);
    const now = Date.now();
    const token: StoredToken = {
      accessToken: result.access_token,
      expiresAt: now + (result.expires_in ?? 3600) * 1000,
      signedInAt: now,
    };
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify(token));
  } catch (error) {
    throw new Error(describeSignInError(error), { cause: error });
  }
  return pending.returnTo;
}

/**
 * Ends the session on the server too (OpenID Connect RP-initiated logout, where Auth0's
 * `/v2/logout` leads), and comes back to the console's start page.
 */
export async function signOut(): Promise<never> {
  const as = await discover();
  clearToken();
  // The console is an OpenID Connect client: it asks the standard logout endpoint, where
  // Auth0's `/v2/logout` (which CARTO's apps call) leads too.
  const endpoint = as.end_session_endpoint ?? `${new URL(as.issuer).origin}/oidc/logout`;
  const url = new URL(endpoint);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    post_logout_redirect_uri: `${consoleBase(as)}/`,
  }).toString();
  location.assign(url.href);
  return leaving();
}
