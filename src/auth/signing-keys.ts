import { createPublicKey, verify, type JsonWebKeyInput, type KeyObject } from 'node:crypto';
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import type { Insertable } from 'kysely';
import type { SigningKeysTable } from '../store/schema.js';
import { withStoreLock } from '../store/store-lock.js';
import type { Store } from '../store/store.js';

export const SIGNING_ALG = 'RS256';

/** The key that signs new tokens, and the public set that verifies them. */
export interface SigningKeys {
  readonly current: { kid: string; privateKey: CryptoKey };
  /** Private JWKs of every key still verifying, the signing one first. */
  readonly privateJwks: JWK[];
  readonly jwks: JSONWebKeySet;
}

/** Nodes sharing the store take this lock to add or retire keys, one at a time. */
const SIGNING_KEYS_LOCK = 'signing_keys';

/** A new key pair as its `signing_keys` row, not yet stored. */
async function newSigningKeyRow(): Promise<Insertable<SigningKeysTable>> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, {
    modulusLength: 2048,
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    alg: SIGNING_ALG,
    private_jwk: JSON.stringify(privateJwk),
    public_jwk: JSON.stringify({ ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' }),
    created_at: new Date().toISOString(),
    retired_at: null,
  };
}

function hasActiveKey(store: Store): Promise<boolean> {
  return store
    .selectFrom('signing_keys')
    .select('kid')
    .where('retired_at', 'is', null)
    .executeTakeFirst()
    .then((row) => row !== undefined);
}

/**
 * Loads the signing keys from the metadata store, creating the first one if there is none.
 * Keys persist so tokens stay valid across restarts and across nodes sharing the store;
 * retired keys stay in the JWKS so tokens they signed verify until they expire. Nodes that
 * start at once on an empty store make one first key between them.
 */
export async function loadSigningKeys(store: Store): Promise<SigningKeys> {
  if (!(await hasActiveKey(store))) {
    const row = await newSigningKeyRow();
    await withStoreLock(store, SIGNING_KEYS_LOCK, async () => {
      if (await hasActiveKey(store)) return;
      await store.insertInto('signing_keys').values(row).execute();
    });
  }

  const rows = await store
    .selectFrom('signing_keys')
    .selectAll()
    .orderBy('created_at', 'desc')
    .execute();
  const active = rows.find((row) => row.retired_at === null);
  if (!active) throw new Error('No active signing key');
  const ordered = [active, ...rows.filter((row) => row !== active)];
  const privateKey = (await importJWK(
    JSON.parse(active.private_jwk) as JWK,
    active.alg,
  )) as CryptoKey;
  const jwks: JSONWebKeySet = { keys: ordered.map((row) => JSON.parse(row.public_jwk) as JWK) };
  return {
    current: { kid: active.kid, privateKey },
    privateJwks: ordered.map((row) => ({
      ...(JSON.parse(row.private_jwk) as JWK),
      kid: row.kid,
      alg: row.alg,
      use: 'sig',
    })),
    jwks,
  };
}

/**
 * Starts signing with a new key. The previous keys stay published, so the tokens they signed
 * verify until they expire; keys retired longer than `keepRetiredSeconds` ago are removed.
 */
export async function rotateSigningKey(
  store: Store,
  keepRetiredSeconds: number,
): Promise<{ kid: string; retired: string[]; removed: string[] }> {
  const now = new Date();
  const row = await newSigningKeyRow();
  // Retired and replaced in one transaction: no node ever finds the store without an active
  // key (and makes one of its own).
  const kid = await withStoreLock(store, SIGNING_KEYS_LOCK, () =>
    store.transaction().execute(async (tx) => {
      const active = await tx
        .selectFrom('signing_keys')
        .select('kid')
        .where('retired_at', 'is', null)
        .execute();
      await tx
        .updateTable('signing_keys')
        .set({ retired_at: now.toISOString() })
        .where('retired_at', 'is', null)
        .execute();
      await tx.insertInto('signing_keys').values(row).execute();
      return { retired: active.map((key) => key.kid) };
    }),
  );
  const newKid = row.kid;
  const cutoff = new Date(now.getTime() - keepRetiredSeconds * 1000).toISOString();
  const expired = await store
    .selectFrom('signing_keys')
    .select('kid')
    .where('retired_at', 'is not', null)
    .where('retired_at', '<', cutoff)
    .execute();
  if (expired.length > 0) {
    await store
      .deleteFrom('signing_keys')
      .where(
        'kid',
        'in',
        expired.map((row) => row.kid),
      )
      .execute();
  }
  return { kid: newKid, retired: kid.retired, removed: expired.map((row) => row.kid) };
}

/** A fingerprint of the stored key set: it changes when a key is added, retired or removed. */
export async function signingKeysVersion(store: Store): Promise<string> {
  const rows = await store
    .selectFrom('signing_keys')
    .select(['kid', 'retired_at'])
    .orderBy('kid')
    .execute();
  return rows.map((row) => `${row.kid}:${row.retired_at ?? ''}`).join(',');
}

/** What verification reads of a token's protected header before checking the token. */
export interface ProtectedHeader {
  alg?: unknown;
  kid?: unknown;
  /** The token's media type: `at+jwt` on the OAuth server's access tokens (RFC 9068). */
  typ?: unknown;
  /** Whether it names critical extensions, none of which are understood here. */
  hasCrit: boolean;
}

/**
 * Protected headers already read, by their encoded segment (null: not a header). The tokens
 * signed with one key share one header, so each is decoded once rather than on each request.
 * Anyone can send headers, so the map is emptied when full.
 */
const knownHeaders = new Map<string, ProtectedHeader | null>();
const MAX_KNOWN_HEADERS = 256;

/**
 * The protected header of a compact JWS, unverified, or undefined when the token is not one.
 * It picks the check (HS256 or RS256, and which key); it is trusted only once that passes.
 */
export function readProtectedHeader(token: string): ProtectedHeader | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  const segment = token.slice(0, dot);
  let header = knownHeaders.get(segment);
  if (header === undefined) {
    try {
      const { alg, kid, typ, crit } = decodeProtectedHeader({ protected: segment });
      header = { alg, kid, typ, hasCrit: crit !== undefined };
    } catch {
      header = null;
    }
    if (knownHeaders.size >= MAX_KNOWN_HEADERS) knownHeaders.clear();
    knownHeaders.set(segment, header);
  }
  return header ?? undefined;
}

/** Why a token was refused: `unknown_key` may mean the keys were rotated on another node. */
export type TokenRejection =
  'malformed' | 'signature' | 'unknown_key' | 'expired' | 'not_yet_valid' | 'iss' | 'aud';

/** A token that does not verify, and why. */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';

  constructor(readonly reason: TokenRejection) {
    super(`token refused: ${reason}`);
  }
}

/** Checks a compact JWS and answers its claims; throws `TokenRejectedError` otherwise. */
export type TokenVerifier = (token: string, header: ProtectedHeader | undefined) => JwtClaims;
export type JwtClaims = Record<string, unknown>;

interface VerificationKey {
  publicKey: KeyObject;
  /** An RSA signature is exactly as long as the key's modulus. */
  signatureBytes: number;
}

/**
 * A verifier of RS256 access tokens signed with `keys` for `issuer` and `audience`. Compared
 * with a general JWT library, it does only what these tokens need, once: the header is read
 * before (and memoized, see `readProtectedHeader`), the signature is checked with node:crypto's
 * one-shot RSA verify, synchronously, and the payload is decoded once, after the signature.
 *
 * Checks: the algorithm is RS256 and nothing else (so unsigned tokens, and HMAC tokens keyed
 * with a public key, never verify); no critical extensions; the key id names one of `keys`;
 * the signature, in canonical base64url, over the exact text of header and payload (UTF-8
 * maps distinct strings to distinct bytes); `iss` and `aud` present and right (`aud` may be a
 * list); `exp` and `nbf`, when present, numbers that hold now, with no leeway.
 */
export function createTokenVerifier(
  keys: SigningKeys,
  expected: { issuer: string; audience: string },
): TokenVerifier {
  const byKid = new Map<string, VerificationKey>();
  for (const jwk of keys.jwks.keys) {
    if (typeof jwk.kid !== 'string' || (jwk.alg !== undefined && jwk.alg !== SIGNING_ALG)) {
      continue;
    }
    const publicKey = createPublicKey({ key: jwk as JsonWebKeyInput['key'], format: 'jwk' });
    const modulusLength = publicKey.asymmetricKeyDetails?.modulusLength;
    if (publicKey.asymmetricKeyType !== 'rsa' || !modulusLength) continue;
    byKid.set(jwk.kid, { publicKey, signatureBytes: Math.ceil(modulusLength / 8) });
  }

  return (token, header) => {
    const first = token.indexOf('.');
    const last = token.lastIndexOf('.');
    if (!header || first <= 0 || token.indexOf('.', first + 1) !== last) reject('malformed');
    if (header.alg !== SIGNING_ALG || header.hasCrit || typeof header.kid !== 'string') {
      reject('malformed');
    }
    const key = byKid.get(header.kid);
    if (!key) reject('unknown_key');

    const encodedSignature = token.slice(last + 1);
    const signature = Buffer.from(encodedSignature, 'base64url');
    if (
      signature.length !== key.signatureBytes ||
      signature.toString('base64url') !== encodedSignature ||
      !verify('sha256', Buffer.from(token.slice(0, last), 'utf8'), key.publicKey, signature)
    ) {
      reject('signature');
    }

    const claims = decodeClaims(token.slice(first + 1, last));
    checkClaims(claims, expected, Date.now());
    return claims;
  };
}

function reject(reason: TokenRejection): never {
  throw new TokenRejectedError(reason);
}

/** The claims of a signed payload segment; a payload that is not a JSON object is malformed. */
function decodeClaims(segment: string): JwtClaims {
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    reject('malformed');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) reject('malformed');
  return claims as JwtClaims;
}

/** Issuer, audience and validity period, as RFC 7519 defines them, with no clock leeway. */
function checkClaims(
  claims: JwtClaims,
  expected: { issuer: string; audience: string },
  nowMs: number,
): void {
  const { iss, aud, exp, nbf } = claims;
  if (iss !== expected.issuer) reject('iss');
  const isAudienceRight = Array.isArray(aud)
    ? aud.every((value) => typeof value === 'string') && aud.includes(expected.audience)
    : aud === expected.audience;
  if (!isAudienceRight) reject('aud');
  if (exp !== undefined) {
    if (typeof exp !== 'number') reject('malformed');
    if (nowMs > exp * 1000) reject('expired');
  }
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') reject('malformed');
    if (nowMs < nbf * 1000) reject('not_yet_valid');
  }
}
