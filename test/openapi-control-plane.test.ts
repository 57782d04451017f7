/**
 * The control plane and the OAuth endpoints answer what the OpenAPI document says. Each
 * operation is called with its documented examples, as the Postman collection calls it
 * (Postman variables filled in, `x-save` followed), and every real answer is checked against
 * the documented response.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import {
  fetchOpenApi,
  responseChecker,
  type OpenApiDocument,
  type OpenApiOperation,
} from './support/openapi-check.js';
import { describeWithPostgres } from './support/postgres.js';
import { firstExample } from '../src/openapi/postman.js';

const { baseUrl, clientId, clientSecret } = sharedServer();

/** Every operation these routes document, and whether a plain HTTP client can run it. */
const OPERATIONS: Record<string, 'run' | 'browser'> = {
  'POST /oauth/token': 'run',
  'POST /oauth/revoke': 'run',
  'GET /userinfo': 'browser',
  'GET /.well-known/openid-configuration': 'run',
  'GET /.well-known/oauth-authorization-server': 'run',
  'GET /.well-known/jwks.json': 'run',
  'GET /authorize': 'browser',
  'GET /login/{uid}': 'browser',
  'POST /login/{uid}': 'browser',
  'GET /oidc/logout': 'browser',
  'GET /v2/logout': 'browser',
  'GET /v3/tokens': 'run',
  'POST /v3/tokens': 'run',
  'GET /v3/tokens/{token}': 'run',
  'PATCH /v3/tokens/{token}': 'run',
  'DELETE /v3/tokens/{token}': 'run',
  'GET /v3/applications': 'run',
  'POST /v3/applications': 'run',
  'GET /v3/applications/{clientId}': 'run',
  'PATCH /v3/applications/{clientId}': 'run',
  'DELETE /v3/applications/{clientId}': 'run',
  'POST /v3/applications/{clientId}/secret': 'run',
  'GET /v3/connections': 'run',
  'POST /v3/connections': 'run',
  'POST /v3/connections/test': 'run',
  'GET /v3/connections/{id}': 'run',
  'PATCH /v3/connections/{id}': 'run',
  'DELETE /v3/connections/{id}': 'run',
  'POST /v3/connections/{id}/test': 'run',
  'GET /v3/me': 'run',
  'GET /v3/account/users': 'run',
  'POST /v3/account/users': 'run',
  'GET /v3/account/users/{userId}': 'run',
  'PATCH /v3/account/users/{userId}': 'run',
  'DELETE /v3/account/users/{userId}': 'run',
  'GET /v3/account/audit': 'run',
};

let document: OpenApiDocument;
let check: ReturnType<typeof responseChecker>;
let token = '';

beforeAll(async () => {
  document = await fetchOpenApi(baseUrl);
  check = responseChecker(document);
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  const json = /^application\/([\w.-]+\+)?json\b/.test(response.headers.get('content-type') ?? '');
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: json && text ? JSON.parse(text) : null,
  };
}

function operation(method: string, path: string): OpenApiOperation {
  const found = document.paths[path]?.[method.toLowerCase()];
  if (!found) throw new Error(`${method} ${path} is not documented`);
  return found;
}

/** Postman's `{{name}}` variables in an example, filled in from `vars`; `{{$guid}}` as Postman. */
function fill(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\{\{(\$?\w+)\}\}/g, (_all, name: string) => {
      if (name === '$guid') return randomUUID();
      if (vars[name] === undefined) throw new Error(`no value for the variable ${name}`);
      return vars[name];
    });
  }
  if (Array.isArray(value)) return value.map((item) => fill(item, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
  }
  return value;
}

/**
 * Calls a documented operation with its examples, as the Postman collection does: path and
 * query parameters from their examples, the body from the first media type's example, then
 * the variables its `x-save` names taken from the answer.
 */
async function runExample(
  method: string,
  path: string,
  vars: Record<string, string>,
  bearer: string | null = token,
): Promise<Answer> {
  const op = operation(method, path);
  let url = path;
  const query = new URLSearchParams();
  for (const parameter of op.parameters ?? []) {
    const example = firstExample(parameter as Parameters<typeof firstExample>[0]);
    if (example === undefined) continue;
    const value = String(fill(example, vars));
    if (parameter.in === 'path')
      url = url.replace(`{${parameter.name}}`, encodeURIComponent(value));
    if (parameter.in === 'query') query.set(parameter.name, value);
  }
  const headers: Record<string, string> = bearer ? { Authorization: `Bearer ${bearer}` } : {};
  let body: string | undefined;
  const [mediaType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
  if (mediaType && media) {
    const example = fill(firstExample(media as Parameters<typeof firstExample>[0]) ?? {}, vars);
    headers['Content-Type'] = mediaType;
    body =
      mediaType === 'application/json'
        ? JSON.stringify(example)
        : new URLSearchParams(example as Record<string, string>).toString();
  }
  const search = query.size > 0 ? `?${query.toString()}` : '';
  const answer = await answerOf(
    await fetch(`${baseUrl}${url}${search}`, { method, headers, body, redirect: 'manual' }),
  );
  const saves = (op['x-save'] ?? {}) as Record<string, string>;
  for (const [variable, field] of Object.entries(saves)) {
    if (answer.body?.[field] !== undefined) vars[variable] = String(answer.body[field]);
  }
  return answer;
}

/** Asserts the status, and that the answer is the documented one for it. */
function expectDocumented(method: string, path: string, answer: Answer, status: number): void {
  expect(answer.status, `${method} ${path}: ${answer.text.slice(0, 300)}`).toBe(status);
  expect(check(method, path, answer.status, answer.body), `${method} ${path}`).toEqual([]);
}

async function api(method: string, path: string, body?: unknown, bearer = token) {
  return answerOf(
    await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

describe('the OpenAPI document of the control plane and the OAuth endpoints', () => {
  it('names, tags and describes each operation, and marks the browser-only ones', () => {
    for (const [route, kind] of Object.entries(OPERATIONS)) {
      const [method, path] = route.split(' ') as [string, string];
      const op = operation(method, path) as OpenApiOperation & { description?: string };
      expect(op.tags, route).toHaveLength(1);
      expect(op.summary, route).toBeTruthy();
      expect(op.description, route).toBeTruthy();
      expect(op.operationId, route).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(op['x-postman'], route).toBe(kind === 'browser' ? 'skip' : undefined);
    }
  });

  it('documents one method for each path the OAuth server answers', () => {
    expect(Object.keys(document.paths['/oauth/token'] ?? {})).toEqual(['post']);
    expect(Object.keys(document.paths['/authorize'] ?? {})).toEqual(['get']);
    expect(Object.keys(document.paths['/userinfo'] ?? {})).toEqual(['get']);
  });
});

describe('OAuth endpoints as documented', () => {
  const vars = () => ({ clientId, clientSecret });

  it('issues a token for the documented form body, and for the same body in JSON', async () => {
    const form = await runExample('POST', '/oauth/token', vars(), null);
    expectDocumented('POST', '/oauth/token', form, 200);
    expect(form.body.token_type).toBe('Bearer');

    const op = operation('POST', '/oauth/token');
    const example = firstExample(
      op.requestBody!.content['application/json'] as Parameters<typeof firstExample>[0],
    );
    const json = await answerOf(
      await fetch(`${baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(fill(example, vars())),
      }),
    );
    expectDocumented('POST', '/oauth/token', json, 200);
  });

  it('answers OAuth errors in their own documented shape', async () => {
    const request = (fields: Record<string, string>) =>
      fetch(`${baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      }).then(answerOf);
    const badSecret = await request({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: 'not-the-secret',
    });
    expectDocumented('POST', '/oauth/token', badSecret, 401);
    expect(badSecret.body.error).toBe('invalid_client');
    const badAudience = await request({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      audience: 'another-api',
    });
    expectDocumented('POST', '/oauth/token', badAudience, 400);
    expect(badAudience.body.error).toBe('invalid_target');
  });

  it('serves discovery, server metadata and the signing keys as documented', async () => {
    for (const path of [
      '/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server',
    ]) {
      expectDocumented('GET', path, await runExample('GET', path, vars(), null), 200);
    }
    const jwks = await runExample('GET', '/.well-known/jwks.json', vars(), null);
    expect(jwks.status).toBe(200);
    const mediaType = 'application/jwk-set+json';
    expect(jwks.headers.get('content-type')?.startsWith(mediaType)).toBe(true);
    const documented = operation('GET', '/.well-known/jwks.json').responses['200']?.content?.[
      mediaType
    ]?.schema as object;
    const validate = new Ajv2020({ strict: false }).compile(documented);
    expect(validate(jwks.body), JSON.stringify(validate.errors)).toBe(true);
    expect(jwks.body.keys.length).toBeGreaterThan(0);
    const discovery = await api('GET', '/.well-known/openid-configuration');
    expect(discovery.body.token_endpoint).toBe(`${baseUrl}/oauth/token`);
  });

  it('revokes with the documented example, an empty 200', async () => {
    const answer = await runExample('POST', '/oauth/revoke', vars(), null);
    expectDocumented('POST', '/oauth/revoke', answer, 200);
    expect(answer.text).toBe('');
  });

  it("refuses a machine's token at /userinfo with a documented OAuth error", async () => {
    const answer = await answerOf(
      await fetch(`${baseUrl}/userinfo`, { headers: { Authorization: `Bearer ${token}` } }),
    );
    expectDocumented('GET', '/userinfo', answer, 401);
  });

  it('answers the documented logout redirects and pages', async () => {
    const logout = await runExample('GET', '/v2/logout', vars(), null);
    expectDocumented('GET', '/v2/logout', logout, 302);
    expect(logout.headers.get('location')).toMatch(/^\/oidc\/logout\?/);
    const unknown = await answerOf(
      await fetch(`${baseUrl}/v2/logout?client_id=no-such-client`, { redirect: 'manual' }),
    );
    expectDocumented('GET', '/v2/logout', unknown, 400);
    expect(unknown.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await answerOf(await fetch(`${baseUrl}/oidc/logout`, { redirect: 'manual' }));
    expectDocumented('GET', '/oidc/logout', page, 200);
  });
});

/** Cookies of one browser session, by name. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  keep(response: Answer): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';', 1);
      const equals = pair.indexOf('=');
      if (equals > 0) this.cookies.set(pair.slice(0, equals).trim(), pair.slice(equals + 1));
    }
  }

  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

describe('the sign-in flow as documented', () => {
  const redirectUri = 'http://localhost:5999/openapi-callback';
  const password = 'openapi-check-password';
  const email = `openapi-${randomBytes(4).toString('hex')}@example.test`;
  let appId = '';
  let userId = '';

  beforeAll(async () => {
    const user = await api('POST', '/v3/account/users', { email, role: 'editor', password });
    expect(user.status, user.text).toBe(201);
    userId = user.body.id;
    const app = await api('POST', '/v3/applications', {
      name: 'OpenAPI sign-in check',
      type: 'single_page',
      callback_urls: [redirectUri],
    });
    expect(app.status, app.text).toBe(201);
    appId = app.body.client_id;
  });

  afterAll(async () => {
    if (appId) await api('DELETE', `/v3/applications/${appId}`);
    if (userId) await api('DELETE', `/v3/account/users/${userId}`);
  });

  it('goes from /authorize through the sign-in page to documented tokens', async () => {
    const jar = new CookieJar();
    const browse = async (url: string, init: RequestInit = {}) => {
      const answer = await answerOf(
        await fetch(new URL(url, baseUrl), {
          ...init,
          redirect: 'manual',
          headers: { ...(init.headers as Record<string, string>), Cookie: jar.header },
        }),
      );
      jar.keep(answer);
      return answer;
    };
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = await browse(
      `/authorize?${new URLSearchParams({
        client_id: appId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        audience: 'carto-cloud-native-api',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'openapi-state',
      })}`,
    );
    expectDocumented('GET', '/authorize', authorize, 303);
    const signInPath = authorize.headers.get('location')!;
    expect(signInPath).toMatch(/^\/login\//);

    const page = await browse(signInPath);
    expectDocumented('GET', '/login/{uid}', page, 200);
    expect(page.text).toContain('<form');

    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    const wrong = await browse(signInPath, form({ email, password: 'not-the-password' }));
    expectDocumented('POST', '/login/{uid}', wrong, 401);
    const signedIn = await browse(signInPath, form({ email, password }));
    expectDocumented('POST', '/login/{uid}', signedIn, 303);

    const back = await browse(signedIn.headers.get('location')!);
    expect(back.status).toBe(303);
    const callback = new URL(back.headers.get('location')!);
    expect(callback.href.startsWith(redirectUri)).toBe(true);
    const code = callback.searchParams.get('code')!;
    expect(code).toBeTruthy();

    const tokens = await answerOf(
      await fetch(`${baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: appId,
          code,
          code_verifier: verifier,
          redirect_uri: redirectUri,
        }),
      }),
    );
    expectDocumented('POST', '/oauth/token', tokens, 200);
    expect(tokens.body.id_token).toBeTruthy();
    const userToken = tokens.body.access_token as string;

    const userinfo = await answerOf(
      await fetch(`${baseUrl}/userinfo`, { headers: { Authorization: `Bearer ${userToken}` } }),
    );
    expectDocumented('GET', '/userinfo', userinfo, 200);
    expect(userinfo.body.sub).toBe(userId);

    const me = await api('GET', '/v3/me', undefined, userToken);
    expectDocumented('GET', '/v3/me', me, 200);
    expect(me.body).toMatchObject({ id: userId, token_kind: 'user' });
    expect(me.body.client_id).toBeUndefined();
  });

  it('documents the answer to an expired or unknown sign-in', async () => {
    const page = await answerOf(await fetch(`${baseUrl}/login/no-such-sign-in`));
    expectDocumented('GET', '/login/{uid}', page, 400);
    const form = await answerOf(
      await fetch(`${baseUrl}/login/no-such-sign-in`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email, password }).toString(),
        redirect: 'manual',
      }),
    );
    expectDocumented('POST', '/login/{uid}', form, 400);
    expect(form.text).toContain('expired');
  });
});

describe('Tokens API as documented', () => {
  it('creates, reads, changes and revokes a token with the documented examples', async () => {
    const vars: Record<string, string> = { connectionName: 'carto_dw' };
    const created = await runExample('POST', '/v3/tokens', vars);
    expectDocumented('POST', '/v3/tokens', created, 201);
    expect(vars.apiToken).toBe(created.body.token);
    try {
      const list = await runExample('GET', '/v3/tokens', vars);
      expectDocumented('GET', '/v3/tokens', list, 200);
      expect(list.body.data.map((t: { id: string }) => t.id)).toContain(created.body.id);
      const one = await runExample('GET', '/v3/tokens/{token}', vars);
      expectDocumented('GET', '/v3/tokens/{token}', one, 200);
      expect(one.body.token).toBeUndefined();
      const changed = await runExample('PATCH', '/v3/tokens/{token}', vars);
      expectDocumented('PATCH', '/v3/tokens/{token}', changed, 200);
      expect(changed.body.name).toMatch(/^postman_token_renamed_[0-9a-f-]{36}$/);
    } finally {
      expectDocumented(
        'DELETE',
        '/v3/tokens/{token}',
        await runExample('DELETE', '/v3/tokens/{token}', vars),
        204,
      );
    }
    const gone = await runExample('GET', '/v3/tokens/{token}', vars);
    expectDocumented('GET', '/v3/tokens/{token}', gone, 404);
  });
});

describe('Applications API as documented', () => {
  it('shows the secret only when creating and rotating', async () => {
    const vars: Record<string, string> = {};
    const created = await runExample('POST', '/v3/applications', vars);
    expectDocumented('POST', '/v3/applications', created, 201);
    expect(created.body.client_secret).toBeTruthy();
    expect(vars.clientId2).toBe(created.body.client_id);
    try {
      const list = await runExample('GET', '/v3/applications', vars);
      expectDocumented('GET', '/v3/applications', list, 200);
      const listed = list.body.data.find(
        (a: { client_id: string }) => a.client_id === vars.clientId2,
      );
      expect(listed).toBeTruthy();
      expect(listed.client_secret).toBeUndefined();
      const one = await runExample('GET', '/v3/applications/{clientId}', vars);
      expectDocumented('GET', '/v3/applications/{clientId}', one, 200);
      const changed = await runExample('PATCH', '/v3/applications/{clientId}', vars);
      expectDocumented('PATCH', '/v3/applications/{clientId}', changed, 200);
      expect(changed.body.client_secret).toBeUndefined();
      const rotated = await runExample('POST', '/v3/applications/{clientId}/secret', vars);
      expectDocumented('POST', '/v3/applications/{clientId}/secret', rotated, 200);
      expect(rotated.body.client_secret).not.toBe(created.body.client_secret);
      const newToken = await fetchToken(baseUrl, vars.clientId2!, rotated.body.client_secret);
      expect(newToken).toBeTruthy();
    } finally {
      const deleted = await runExample('DELETE', '/v3/applications/{clientId}', vars);
      expectDocumented('DELETE', '/v3/applications/{clientId}', deleted, 204);
    }
  });
});

describe('Account API as documented', () => {
  it('answers /v3/me for a machine token as documented', async () => {
    const me = await runExample('GET', '/v3/me', {});
    expectDocumented('GET', '/v3/me', me, 200);
    expect(me.body).toMatchObject({ token_kind: 'machine', client_id: clientId });
  });

  it('adds, reads, changes and deletes a user with the documented examples', async () => {
    const vars: Record<string, string> = {};
    const created = await runExample('POST', '/v3/account/users', vars);
    expectDocumented('POST', '/v3/account/users', created, 201);
    expect(vars.userId).toBe(created.body.id);
    try {
      const list = await runExample('GET', '/v3/account/users', vars);
      expectDocumented('GET', '/v3/account/users', list, 200);
      const one = await runExample('GET', '/v3/account/users/{userId}', vars);
      expectDocumented('GET', '/v3/account/users/{userId}', one, 200);
      const changed = await runExample('PATCH', '/v3/account/users/{userId}', vars);
      expectDocumented('PATCH', '/v3/account/users/{userId}', changed, 200);
      expect(changed.body.role).toBe('editor');
    } finally {
      const deleted = await runExample('DELETE', '/v3/account/users/{userId}', vars);
      expectDocumented('DELETE', '/v3/account/users/{userId}', deleted, 204);
    }
  });

  it('reads the audit log with the documented query and pages as documented', async () => {
    const vars: Record<string, string> = {};
    // The example filters on application.created: make sure there is one to read.
    const app = await api('POST', '/v3/applications', { name: 'Audit example', type: 'm2m' });
    expect(app.status, app.text).toBe(201);
    await api('DELETE', `/v3/applications/${app.body.client_id}`);

    const page = await runExample('GET', '/v3/account/audit', vars);
    expectDocumented('GET', '/v3/account/audit', page, 200);
    expect(page.body.data.length).toBeGreaterThan(0);
    const one = await api('GET', '/v3/account/audit?limit=1');
    expectDocumented('GET', '/v3/account/audit', one, 200);
    expect(one.body.meta.next_before).toBe(one.body.data[0].seq);
  });
});

describe('Connections API as documented (embedded warehouse)', () => {
  it('lists, reads and tests carto_dw as documented', async () => {
    const vars = { connectionId: 'carto_dw' };
    const list = await runExample('GET', '/v3/connections', vars);
    expectDocumented('GET', '/v3/connections', list, 200);
    const one = await runExample('GET', '/v3/connections/{id}', vars);
    expectDocumented('GET', '/v3/connections/{id}', one, 200);
    expect(one.body).toMatchObject({ name: 'carto_dw', managed: true });
    const tested = await runExample('POST', '/v3/connections/{id}/test', vars);
    expectDocumented('POST', '/v3/connections/{id}/test', tested, 200);
  });
});

describeWithPostgres('Connections API as documented (PostgreSQL)', (pg) => {
  const vars: Record<string, string> = {};

  beforeAll(() => {
    Object.assign(vars, {
      pgHost: pg.host,
      pgPort: String(pg.port),
      pgDatabase: pg.database,
      pgUser: pg.username,
      pgPassword: pg.password,
    });
  });

  afterAll(async () => {
    if (vars.connectionId) await api('DELETE', `/v3/connections/${vars.connectionId}`);
  });

  it('tests, creates, reads, changes, tests and deletes with the documented examples', async () => {
    const unsaved = await runExample('POST', '/v3/connections/test', vars);
    expectDocumented('POST', '/v3/connections/test', unsaved, 200);
    expect(unsaved.body.postgisVersion).toBeTruthy();

    const created = await runExample('POST', '/v3/connections', vars);
    expectDocumented('POST', '/v3/connections', created, 201);
    expect(created.body.name).toMatch(/^postman_pg_[0-9a-f-]{36}$/);
    expect(created.text).not.toContain(pg.password);
    expect(vars.connectionId).toBe(created.body.id);

    const list = await runExample('GET', '/v3/connections', vars);
    expectDocumented('GET', '/v3/connections', list, 200);
    const one = await runExample('GET', '/v3/connections/{id}', vars);
    expectDocumented('GET', '/v3/connections/{id}', one, 200);
    const changed = await runExample('PATCH', '/v3/connections/{id}', vars);
    expectDocumented('PATCH', '/v3/connections/{id}', changed, 200);
    expect(changed.body.config.readOnly).toBe(true);
    const tested = await runExample('POST', '/v3/connections/{id}/test', vars);
    expectDocumented('POST', '/v3/connections/{id}/test', tested, 200);
    const deleted = await runExample('DELETE', '/v3/connections/{id}', vars);
    expectDocumented('DELETE', '/v3/connections/{id}', deleted, 204);
  });
});
