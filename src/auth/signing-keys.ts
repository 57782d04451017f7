import {
  calculateJwkThumbprint,
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
  /** Private JWKs of every key still verifying, the signing one first. */
  readonly privateJwks: JWK[];
  readonly jwks: JSONWebKeySet;
}

async function createSigningKey(store: Store): Promise<string> {
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
  return kid;
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
  const kid = await store.transaction().execute(async (tx) => {
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
    return { retired: active.map((row) => row.kid) };
  });
  const newKid = await createSigningKey(store);
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
