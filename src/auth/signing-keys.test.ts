import {
  KeyObject,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type JsonWebKeyInput,
} from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/store.js';
import {
  TokenRejectedError,
  createTokenVerifier,
  loadSigningKeys,
  readProtectedHeader,
  type SigningKeys,
  type TokenRejection,
  type TokenVerifier,
} from './signing-keys.js';

const ISSUER = 'http://127.0.0.1:8080/';
const AUDIENCE = 'carto-cloud-native-api';

let dataDir: string;
let store: Store;
let keys: SigningKeys;
let privateKey: KeyObject;
let verifier: TokenVerifier;

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS over exactly this header and these claims, signed RS256 with `key`. */
function signJws(header: object, claims: object, key: KeyObject = privateKey): string {
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const goodHeader = () => ({ alg: 'RS256', typ: 'at+jwt', kid: keys.current.kid });
const goodClaims = () => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'client-1',
  iat: nowSeconds(),
  exp: nowSeconds() + 600,
});

const check = (token: string) => verifier(token, readProtectedHeader(token));

/** Why `token` is refused, or 'accepted'. */
function verdict(token: string): TokenRejection | 'accepted' {
  try {
    check(token);
    return 'accepted';
  } catch (error) {
    if (error instanceof TokenRejectedError) return error.reason;
    throw error;
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-signing-keys-'));
  store = await openStore(dataDir);
  keys = await loadSigningKeys(store);
  privateKey = KeyObject.from(keys.current.privateKey);
  verifier = createTokenVerifier(keys, { issuer: ISSUER, audience: AUDIENCE });
});

afterAll(async () => {
  await store?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('RS256 token verifier', () => {
  it('answers the claims of a token signed with a current key', () => {
    const claims = goodClaims();
    expect(check(signJws(goodHeader(), claims))).toEqual(claims);
    const listed = { ...claims, aud: ['another-api', AUDIENCE] };
    expect(check(signJws(goodHeader(), listed))).toEqual(listed);
  });

  it('refuses unsigned tokens and HS256 tokens keyed with the public key', () => {
    const claims = encode(goodClaims());
    const unsigned = `${encode({ alg: 'none', kid: keys.current.kid })}.${claims}.`;
    expect(verdict(unsigned)).toBe('malformed');

    const publicPem = createPublicKey({
      key: keys.jwks.keys[0] as JsonWebKeyInput['key'],
      format: 'jwk',
    })
      .export({ format: 'pem', type: 'spki' })
      .toString();
    const hsInput = `${encode({ alg: 'HS256', kid: keys.current.kid })}.${claims}`;
    const hmac = createHmac('sha256', publicPem).update(hsInput).digest('base64url');
    expect(verdict(`${hsInput}.${hmac}`)).toBe('malformed');
  });

  it('refuses a token naming an unknown key, or none, or a critical extension', () => {
    expect(verdict(signJws({ ...goodHeader(), kid: 'not-a-key' }, goodClaims()))).toBe(
      'unknown_key',
    );
    expect(verdict(signJws({ alg: 'RS256' }, goodClaims()))).toBe('malformed');
    const critical = { ...goodHeader(), crit: ['exp-ext'], 'exp-ext': true };
    expect(verdict(signJws(critical, goodClaims()))).toBe('malformed');
  });

  it('refuses tokens that are not three segments, or whose header or payload is no object', () => {
    const token = signJws(goodHeader(), goodClaims());
    expect(verdict(`${token}.extra`)).toBe('malformed');
    expect(verdict(token.replace('.', '..'))).toBe('malformed');
    expect(verdict('not-a-token')).toBe('malformed');
    expect(verdict(signJws(goodHeader(), [goodClaims()]))).toBe('malformed');
    const garbledHeader = `${Buffer.from('{"alg":').toString('base64url')}${token.slice(
      token.indexOf('.'),
    )}`;
    expect(verdict(garbledHeader)).toBe('malformed');
  });

  it('refuses a signature made with another key, over other content, or encoded loosely', () => {
    const token = signJws(goodHeader(), goodClaims());
    const [header, payload, signature] = token.split('.') as [string, string, string];

    const otherClaims = encode({ ...goodClaims(), sub: 'someone-else' });
    expect(verdict(`${header}.${otherClaims}.${signature}`)).toBe('signature');
    const otherHeader = encode({ ...goodHeader(), typ: 'JWT' });
    expect(verdict(`${otherHeader}.${payload}.${signature}`)).toBe('signature');

    // The same signature bytes written differently: padding, or spare low bits set in the
    // last character (a 2048-bit signature leaves 4 of its 342 characters' bits unused).
    expect(verdict(`${token}==`)).toBe('signature');
    const last = signature.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const loose = alphabet[alphabet.indexOf(last) | 1]!;
    expect(Buffer.from(`${signature.slice(0, -1)}${loose}`, 'base64url')).toEqual(
      Buffer.from(signature, 'base64url'),
    );
    expect(verdict(`${header}.${payload}.${signature.slice(0, -1)}${loose}`)).toBe('signature');

    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(verdict(signJws(goodHeader(), goodClaims(), stranger))).toBe('signature');
  });

  it('refuses a wrong or missing issuer or audience', () => {
    const { iss: _iss, aud: _aud, ...rest } = goodClaims();
    expect(verdict(signJws(goodHeader(), { ...goodClaims(), iss: 'http://evil/' }))).toBe('iss');
    expect(verdict(signJws(goodHeader(), { ...rest, aud: AUDIENCE }))).toBe('iss');
    expect(verdict(signJws(goodHeader(), { ...goodClaims(), aud: 'another-api' }))).toBe('aud');
    expect(verdict(signJws(goodHeader(), { ...goodClaims(), aud: [1, AUDIENCE] }))).toBe('aud');
    expect(verdict(signJws(goodHeader(), { ...rest, iss: ISSUER }))).toBe('aud');
  });

  it('refuses an expired token, one not valid yet, and times that are not numbers', () => {
    const now = nowSeconds();
    expect(verdict(signJws(goodHeader(), { ...goodClaims(), exp: now - 5 }))).toBe('expired');
    expect(verdict(signJws(goodHeader(), { ...goodClaims(), nbf: now + 60 }))).toBe(
      'not_yet_valid',
    );
    expect(verdict(signJws(goodHeader(), { ...goodClaims(), nbf: now - 5 }))).toBe('accepted');
    expect(verdict(signJws(goodHeader(), { ...goodClaims(), exp: `${now + 60}` }))).toBe(
      'malformed',
    );
  });
});

describe('protected header reading', () => {
  it('reads alg, kid, typ and critical extensions, and nothing from what is not a header', () => {
    const token = signJws({ ...goodHeader(), crit: ['x'], x: 1 }, goodClaims());
    expect(readProtectedHeader(token)).toEqual({
      alg: 'RS256',
      kid: keys.current.kid,
      typ: 'at+jwt',
      hasCrit: true,
    });
    expect(readProtectedHeader('.a.b')).toBeUndefined();
    expect(readProtectedHeader(`${encode([1])}.a.b`)).toBeUndefined();
    expect(readProtectedHeader('%%%.a.b')).toBeUndefined();
  });

  it('keeps answering right after many distinct headers', () => {
    for (let i = 0; i < 600; i++) {
      const header = { ...goodHeader(), kid: `key-${i}` };
      expect(readProtectedHeader(`${encode(header)}.a.b`)?.kid).toBe(`key-${i}`);
    }
    expect(verdict(signJws(goodHeader(), goodClaims()))).toBe('accepted');
  });
});
