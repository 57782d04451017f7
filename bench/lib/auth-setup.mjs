/**
 * What the identity benchmark needs on a running server, made through the public API: the
 * bootstrap application's access token, an API access token, a single-page application and a
 * sign-in interaction (the `/login/{uid}` page and its cookies) started with PKCE.
 */
import { createHash, randomBytes } from 'node:crypto';
import { URLSearchParams } from 'node:url';
import { issueToken } from './http-client.mjs';
import { CLIENT_ID, CLIENT_SECRET } from './server.mjs';

const JSON_TYPE = { 'content-type': 'application/json' };

async function postJson(client, path, token, body) {
  const response = await client.request(path, {
    method: 'POST',
    headers: { ...JSON_TYPE, authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    keepBody: true,
  });
  if (response.status !== 201) {
    throw new Error(`POST ${path} answered ${response.status}: ${response.errorText}`);
  }
  return JSON.parse(response.body.toString('utf8'));
}

/** The claims of a compact JWS, unverified; the benchmark copies them into its own tokens. */
export function decodeClaims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** The protected header of a compact JWS, unverified. */
export function decodeHeader(token) {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

/** `name=value` pairs of the Set-Cookie lines, as a Cookie header. */
function cookieHeader(setCookieLines) {
  return setCookieLines.map((line) => line.split(';', 1)[0]).join('; ');
}

/**
 * Starts a sign-in for `clientId` as a single-page app does (code flow, PKCE S256) and answers
 * the sign-in page's path and the cookies the browser would send to it.
 */
export async function startInteraction(baseUrl, clientId, redirectUri) {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid profile email',
    audience: 'carto-cloud-native-api',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
  });
  const response = await fetch(`${baseUrl}/authorize?${params}`, { redirect: 'manual' });
  await response.arrayBuffer();
  const location = response.headers.get('location') ?? '';
  if (response.status < 300 || response.status >= 400 || !location.startsWith('/login/')) {
    throw new Error(`/authorize answered ${response.status}, location '${location}'`);
  }
  const loginCookies = response.headers
    .getSetCookie()
    .filter((line) => /;\s*path=\/login\//i.test(line));
  return { loginPath: location, cookie: cookieHeader(loginCookies) };
}

/** Everything the timed phases use, made on the server at `client.baseUrl`. */
export async function prepareFixtures(client) {
  const machineToken = await issueToken(client, CLIENT_ID, CLIENT_SECRET);
  const apiToken = await postJson(client, '/v3/tokens', machineToken, {
    name: 'identity benchmark',
    grants: [{ connection_name: 'carto_dw', source: '*' }],
    allowed_apis: ['sql', 'maps'],
  });
  const redirectUri = `${client.baseUrl}/callback`;
  const spa = await postJson(client, '/v3/applications', machineToken, {
    name: 'identity benchmark SPA',
    url: redirectUri,
  });
  const interaction = await startInteraction(client.baseUrl, spa.client_id, redirectUri);
  return {
    machineToken,
    machineClaims: decodeClaims(machineToken),
    machineHeader: decodeHeader(machineToken),
    apiToken: apiToken.token,
    spaClientId: spa.client_id,
    redirectUri,
    ...interaction,
  };
}
