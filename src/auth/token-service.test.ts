import { KeyObject, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrap } from '../accounts/bootstrap.js';
import { ApiError } from '../http/errors.js';
import { openStore, type Store } from '../store/store.js';
import { IdentityDirectory } from './identity-directory.js';
import { loadSigningKeys, type SigningKeys } from './signing-keys.js';
import { ACCOUNT_ID_CLAIM, API_AUDIENCE, TokenService } from './token-service.js';

const ISSUER = 'http://127.0.0.1:8080/';
const BOOTSTRAP = { clientId: 'tokenservicetestclient0000000001', clientSecret: 'test-secret' };

const scratch = mkdtempSync(path.join(os.tmpdir(), 'graticule-token-service-'));
let store: Store;
let keys: SigningKeys;
let accountId: string;

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS over exactly this header and these claims, signed with the store's key. */
function signJws(header: object, claims: object): string {
  const input = `${encode(header)}.${encode(claims)}`;
  const key = KeyObject.from(keys.current.privateKey);
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

const header = () => ({ alg: 'RS256', typ: 'at+jwt', kid: keys.current.kid });

/** The claims of a client-credentials token of the bootstrap application, as issued. */
function machineClaims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    aud: API_AUDIENCE,
    sub: BOOTSTRAP.clientId,
    azp: BOOTSTRAP.clientId,
    client_id: BOOTSTRAP.clientId,
    gty: 'client-credentials',
    [ACCOUNT_ID_CLAIM]: accountId,
    scope: 'read:maps write:maps',
    permissions: ['read:maps', 'admin:account'],
    iat: now,
    exp: now + 600,
    ...overrides,
  };
}

/** The 401 message verifying `token` answers, or 'admitted'. */
async function outcome(service: TokenService, token: string): Promise<string> {
  try {
    await service.verify(token);
    return 'admitted';
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return error.message;
    throw error;
  }
}

beforeAll(async () => {
  store = await openStore(path.join(scratch, 'main'));
  keys = await loadSigningKeys(store);
  ({ accountId } = await ensureBootstrap(store, BOOTSTRAP));
});

afterAll(async () => {
  await store?.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

describe('TokenService.verify', () => {
  it('admits a fresh token, then answers the same principal from memory', async () => {
    const service = new TokenService(keys, () => ISSUER);
    const token = signJws(header(), machineClaims());
    const expected = {
      kind: 'machine',
      subject: BOOTSTRAP.clientId,
      accountId,
      clientId: BOOTSTRAP.clientId,
      scope: ['read:maps', 'write:maps'],
      permissions: ['read:maps', 'admin:account'],
    };
    expect(await service.verify(token)).toEqual(expected);
    expect(await service.verify(token)).toEqual(expected);
  });

  it('never takes a token sharing a remembered signature but not its content', async () => {
    const service = new TokenService(keys, () => ISSUER);
    const token = signJws(header(), machineClaims());
    await service.verify(token);
    const [encodedHeader, payload, signature] = token.split('.') as [string, string, string];

    const raised = encode(machineClaims({ permissions: ['admin:account', 'write:tokens'] }));
    const otherAccount = encode(machineClaims({ [ACCOUNT_ID_CLAIM]: 'ac_someone_else' }));
    const otherHeader = encode({ ...header(), typ: 'JWT' });
    const unsignedHeader = encode({ alg: 'none', kid: keys.current.kid });
    for (const forged of [
      `${encodedHeader}.${raised}.${signature}`,
      `${encodedHeader}.${otherAccount}.${signature}`,
      `${otherHeader}.${payload}.${signature}`,
      `${unsignedHeader}.${payload}.${signature}`,
      `${encodedHeader}.${payload}x.${signature}`,
    ]) {
      expect(service.peekAccount(forged)).toBeUndefined();
      expect(await outcome(service, forged)).toMatch(/^Invalid token: the token is malformed/);
    }
    expect(service.peekAccount(token)).toBe(accountId);
    expect(await outcome(service, token)).toBe('admitted');
  });

  it('refuses a signed token whose header does not type it an access token, with 401', async () => {
    const service = new TokenService(keys, () => ISSUER);
    const { typ: _typ, ...untyped } = header();
    const idTokenLike = { ...header(), typ: 'JWT' };
    for (const signedHeader of [idTokenLike, untyped, { ...header(), typ: 'at+jwt+x' }]) {
      const token = signJws(signedHeader, machineClaims());
      expect(await outcome(service, token)).toBe(
        "Invalid token: the token is not an access token (its 'typ' is not 'at+jwt')",
      );
      expect(service.peekAccount(token)).toBeUndefined();
    }

    const mediaType = signJws({ ...header(), typ: 'application/AT+JWT' }, machineClaims());
    expect(await outcome(service, mediaType)).toBe('admitted');
  });

  it('stops admitting a remembered token once it expires', async () => {
    const service = new TokenService(keys, () => ISSUER);
    const expSeconds = Math.floor(Date.now() / 1000) + 2;
    const token = signJws(header(), machineClaims({ exp: expSeconds }));
    expect(await outcome(service, token)).toBe('admitted');
    while (Date.now() <= expSeconds * 1000) await delay(100);
    expect(await outcome(service, token)).toBe('Invalid token: the token has expired');
  });

  it('forgets remembered tokens when the keys change, checks the issuer on every use', async () => {
    let issuer = ISSUER;
    const service = new TokenService(keys, () => issuer);
    const token = signJws(header(), machineClaims());
    expect(await outcome(service, token)).toBe('admitted');

    issuer = 'http://127.0.0.1:9090/';
    expect(await outcome(service, token)).toBe("Invalid token: claim 'iss' is not acceptable");
    issuer = ISSUER;
    expect(await outcome(service, token)).toBe('admitted');

    const otherStore = await openStore(path.join(scratch, 'other'));
    try {
      service.replaceKeys(await loadSigningKeys(otherStore));
    } finally {
      await otherStore.destroy();
    }
    expect(await outcome(service, token)).toBe(
      'Invalid token: the token names no key this server signs with',
    );
  });

  it('looks for new keys once when a token names an unknown one', async () => {
    const otherStore = await openStore(path.join(scratch, 'rotated'));
    const service = new TokenService(await loadSigningKeys(otherStore), () => ISSUER);
    await otherStore.destroy();
    let lookups = 0;
    service.onUnknownKey = async () => {
      lookups += 1;
      service.replaceKeys(keys);
      return true;
    };
    expect(await outcome(service, signJws(header(), machineClaims()))).toBe('admitted');
    expect(lookups).toBe(1);
  });

  it('answers copies: changing one answer changes no later one', async () => {
    const service = new TokenService(keys, () => ISSUER);
    const token = signJws(header(), machineClaims());
    const first = await service.verify(token);
    first.permissions.push('write:tokens');
    first.scope.length = 0;
    const second = await service.verify(token);
    expect(second.permissions).toEqual(['read:maps', 'admin:account']);
    expect(second.scope).toEqual(['read:maps', 'write:maps']);
  });

  it('with the directory, narrows permissions to the role and refuses unknown apps', async () => {
    const service = new TokenService(keys, () => ISSUER);
    const directory = new IdentityDirectory(store);
    await directory.refresh();
    service.useIdentityDirectory(directory);

    const token = signJws(header(), machineClaims({ permissions: ['read:maps', 'bogus:perm'] }));
    expect((await service.verify(token)).permissions).toEqual(['read:maps']);
    expect((await service.verify(token)).permissions).toEqual(['read:maps']);

    const stranger = 'unknownclient000000000000000001';
    const strangers = signJws(header(), machineClaims({ sub: stranger, azp: stranger }));
    expect(await outcome(service, strangers)).toBe(
      'Invalid token: the application no longer exists',
    );
  });
});
