import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import type { Store } from '../store/store.js';

export const SIGNING_ALG = 'RS256';

/** The key that signs new tokens, and the public set that verifies them. */
export interface SigningKeys {
  readonly current: { kid: string; privateKey: CryptoKey };
  readonly jwks: JSONWebKeySet;
  readonly verificationKeys: ReturnType<typeof createLocalJWKSet>;
}

async function createSigningKey(store: Store): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, {
    modulusLength: 2048,
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  await store
    .insertInto('signing_keys')
    .values({
      kid,
      alg: SIGNING_ALG,
      private_jwk: JSON.stringify(privateJwk),
      public_jwk: JSON.stringify({ ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' }),
      created_at: new Date().toISOString(),
      retired_at: null,
    })
    .execute();
}

/**
 * Loads the signing keys from the metadata store, creating the first one if there is none.
 * Keys persist so tokens stay valid across restarts and across nodes sharing the store;
 * retired keys stay in the JWKS so tokens they signed verify until they expire.
 */
export async function loadSigningKeys(store: Store): Promise<SigningKeys> {
  const hasActive = await store
    .selectFrom('signing_keys')
    .select('kid')
    .where('retired_at', 'is', null)
    .executeTakeFirst();
  if (!hasActive) await createSigningKey(store);

  const rows = await store
    .selectFrom('signing_keys')
    .selectAll()
    .orderBy('created_at', 'desc')
    .execute();
  const active = rows.find((row) => row.retired_at === null);
  if (!active) throw new Error('No active signing key');
  const privateKey = (await importJWK(
    JSON.parse(active.private_jwk) as JWK,
    active.alg,
  )) as CryptoKey;
  const jwks: JSONWebKeySet = { keys: rows.map((row) => JSON.parse(row.public_jwk) as JWK) };
  return {
    current: { kid: active.kid, privateKey },
    jwks,
    verificationKeys: createLocalJWKSet(jwks),
  };
}
