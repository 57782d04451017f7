import { request as httpRequest } from 'node:http';
import Database from 'better-sqlite3';
import path from 'node:path';
import {
  SignJWT,
  createRemoteJWKSet,
  importJWK,
  jwtVerify,
  decodeProtectedHeader,
  decodeJwt,
  type JWK,
} from 'jose';
import * as oidc from 'openid-client';
import { describe, expect, inject, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';

const { baseUrl, clientId, clientSecret } = sharedServer();

function tokenRequest(fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields),
  });
}

const validFields = () => ({
  grant_type: 'client_credentials',
  client_id: clientId,
  client_secret: clientSecret,
  audience: 'carto-cloud-native-api',
});

/** Signs a token with the server's own private key, read from its metadata store. */
async function signWithServerKey(claims: Record<string, unknown>, expiresAt: number) {
  const database = new Database(path.join(inject('dataDir'), 'metadata.sqlite'), {
    readonly: true,
  });
  const row = database
    .prepare('SELECT kid, private_jwk FROM signing_keys WHERE retired_at IS NULL')
    .get() as { kid: string; private_jwk: string };
  database.close();
  const key = await importJWK(JSON.parse(row.private_jwk) as JWK, 'RS256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: row.kid })
    .setIssuer(`${baseUrl}/`)
    .setSubject(clientId)
    .setIssuedAt(expiresAt - 3600)
    .setExpirationTime(expiresAt)
    .sign(key);
}

async function sqlStatus(token: string | null) {
  const response = await fetch(`${baseUrl}/v3/sql/carto_dw/query?q=SELECT+1`, {
    headers: token === null ? {} : { Authorization: token },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('OAuth token endpoint', () => {
  it('issues an RS256 access token for client credentials sent in the form body', async () => {
    const response = await tokenRequest(validFields());
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 86400 });
    expect(typeof body.scope).toBe('string');

    const token = body.access_token as string;
    expect(decodeProtectedHeader(token).alg).toBe('RS256');
    const jwks = createRemoteJWKSet(new URL(`${baseUrl}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(token, jwks, {
      issuer: `${baseUrl}/`,
      audience: 'carto-cloud-native-api',
    });
    expect(payload.sub).toBe(clientId);
    expect(payload.gty).toBe('client-credentials');
    expect(payload.permissions).toContain('admin:account');
    expect(payload.azp).toBe(clientId);
    expect(payload.exp! - payload.iat!).toBe(86400);
    expect(payload['http://app.carto.com/account_id']).toMatch(/^ac_/);
  });

  it("issues tokens to requests from the server's own pages (the API reference)", async () => {
    const response = await fetch(`${baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: baseUrl },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        audience: 'carto-cloud-native-api',
      }),
    });
    expect(response.status).toBe(200);
    const foreign = await fetch(`${baseUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: 'https://evil.example',
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        audience: 'carto-cloud-native-api',
      }),
    });
    expect(foreign.status).toBe(400);
  });

  it('accepts client credentials sent with HTTP Basic', async () => {
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
    const response = await tokenRequest(
      { grant_type: 'client_credentials', audience: 'carto-cloud-native-api' },
      { Authorization: `Basic ${basic}` },
    );
    expect(response.status).toBe(200);
  });

  it('works with a standard OAuth client through discovery', async () => {
    const config = await oidc.discovery(new URL(baseUrl), clientId, clientSecret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const tokens = await oidc.clientCredentialsGrant(config, {
      audience: 'carto-cloud-native-api',
    });
    expect(tokens.token_type).toBe('bearer');
    expect((await sqlStatus(`Bearer ${tokens.access_token}`)).status).toBe(200);
  });

  it('rejects a wrong client secret with 401 invalid_client', async () => {
    const response = await tokenRequest({ ...validFields(), client_secret: 'wrong-secret' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('rejects wrong Basic credentials with 401 and a Basic challenge', async () => {
    const basic = Buffer.from(`${clientId}:nope`).toString('base64');
    const response = await tokenRequest(
      { grant_type: 'client_credentials' },
      { Authorization: `Basic ${basic}` },
    );
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic/);
  });

  it('rejects an unknown client with 401 invalid_client', async () => {
    const response = await tokenRequest({ ...validFields(), client_id: 'nobody' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('answers RFC 6749 errors for a missing or unsupported grant and an unknown audience', async () => {
    const { grant_type: _, ...withoutGrant } = validFields();
    const missing = await tokenRequest(withoutGrant);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: 'invalid_request' });

    const unsupported = await tokenRequest({ ...validFields(), grant_type: 'password' });
    expect(unsupported.status).toBe(400);
    expect(await unsupported.json()).toMatchObject({ error: 'unsupported_grant_type' });

    const audience = await tokenRequest({ ...validFields(), audience: 'someone-else' });
    expect(audience.status).toBe(400);
    const body = (await audience.json()) as Record<string, unknown>;
    expect(body.error).toBe('invalid_target');
    expect(body.error_description).toContain('someone-else');
  });

  it('serves discovery and JWKS documents', async () => {
    const discovery = (await (
      await fetch(`${baseUrl}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({
      issuer: `${baseUrl}/`,
      token_endpoint: `${baseUrl}/oauth/token`,
      jwks_uri: `${baseUrl}/.well-known/jwks.json`,
    });
    const jwks = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as {
      keys: JWK[];
    };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it("signs the web console out through Auth0's /v2/logout, back to the console only", async () => {
    const logout = (returnTo: string) =>
      fetch(
        `${baseUrl}/v2/logout?${new URLSearchParams({ client_id: 'graticule-console', returnTo })}`,
        { redirect: 'manual' },
      );
    const allowed = await logout(`${baseUrl}/ui/`);
    expect(allowed.status).toBe(302);
    const target = new URL(allowed.headers.get('location')!, baseUrl);
    expect(target.pathname).toBe('/oidc/logout');
    expect(target.searchParams.get('post_logout_redirect_uri')).toBe(`${baseUrl}/ui/`);
    expect((await logout('https://evil.example/')).status).toBe(400);
    expect((await logout(`${baseUrl}/ui/../v3/`)).status).toBe(400);
  });

  it('names its endpoints by the issuer, whatever Host a request sends', async () => {
    for (const path of [
      '/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server',
    ]) {
      const text = await new Promise<string>((resolve, reject) => {
        const request = httpRequest(`${baseUrl}${path}`, { headers: { Host: 'evil.example' } });
        request.on('response', (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve(body));
        });
        request.on('error', reject);
        request.end();
      });
      const discovery = JSON.parse(text) as Record<string, unknown>;
      expect(discovery.token_endpoint, path).toBe(`${baseUrl}/oauth/token`);
      expect(text, path).not.toContain('evil.example');
    }
  });

  it('advertises only endpoints it serves', async () => {
    const discovery = (await (
      await fetch(`${baseUrl}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    const endpoints = Object.entries(discovery).filter(
      ([key, value]) =>
        (key.endsWith('_endpoint') || key.endsWith('_uri')) &&
        typeof value === 'string' &&
        value.startsWith(baseUrl),
    );
    expect(endpoints.length).toBeGreaterThan(4);
    for (const [key, url] of endpoints) {
      const get = await fetch(String(url), { redirect: 'manual' });
      const post = await fetch(String(url), { method: 'POST', redirect: 'manual' });
      expect([get.status, post.status], `${key} ${String(url)}`).not.toEqual([404, 404]);
    }
  });
});

describe('Bearer tokens on /v3 routes', () => {
  it('answers 401 "Token not defined" without a token', async () => {
    expect(await sqlStatus(null)).toEqual({
      status: 401,
      body: { error: 'Token not defined', status: 401, code: 'token_missing' },
    });
  });

  it('answers 401 for a malformed header or token', async () => {
    expect((await sqlStatus('Token abc')).status).toBe(401);
    expect((await sqlStatus('Bearer not.a.jwt')).status).toBe(401);
  });

  it('answers 401 for an expired token', async () => {
    const expired = await signWithServerKey(
      { aud: 'carto-cloud-native-api', 'http://app.carto.com/account_id': 'ac_x' },
      Math.floor(Date.now() / 1000) - 60,
    );
    const result = await sqlStatus(`Bearer ${expired}`);
    expect(result.status).toBe(401);
    expect(result.body.error).toMatch(/expired/);
  });

  it('answers 401 for a token not valid yet, and 200 for the same claims once valid', async () => {
    const now = Math.floor(Date.now() / 1000);
    const real = decodeJwt(await fetchToken(baseUrl, clientId, clientSecret));
    const claims = {
      aud: 'carto-cloud-native-api',
      'http://app.carto.com/account_id': real['http://app.carto.com/account_id'],
      gty: 'client-credentials',
      azp: clientId,
    };
    const early = await signWithServerKey({ ...claims, nbf: now + 600 }, now + 3600);
    const result = await sqlStatus(`Bearer ${early}`);
    expect(result.status).toBe(401);
    expect(result.body.error).toMatch(/nbf/);
    const valid = await signWithServerKey({ ...claims, nbf: now - 5 }, now + 3600);
    expect((await sqlStatus(`Bearer ${valid}`)).status).not.toBe(401);
  });

  it('answers 401 for a token for another audience', async () => {
    const foreign = await signWithServerKey(
      { aud: 'another-api', 'http://app.carto.com/account_id': 'ac_x' },
      Math.floor(Date.now() / 1000) + 600,
    );
    expect((await sqlStatus(`Bearer ${foreign}`)).status).toBe(401);
  });

  it('answers 401 for a token signed with another key', async () => {
    const token = await fetchToken(baseUrl, clientId, clientSecret);
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${Buffer.from('forged signature').toString('base64url')}`;
    expect((await sqlStatus(`Bearer ${forged}`)).status).toBe(401);
  });
});
