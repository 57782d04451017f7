import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';

/** The `meta` key under which the HMAC key of API access tokens is kept. */
export const API_TOKEN_KEY_META = 'api_token_hmac_key';
const KEY_BYTES = 32;

/**
 * The HMAC key that signs API access tokens: read from the metadata store, or made (32 random
 * bytes) on first start. Every node sharing the store verifies the same tokens; when two nodes
 * start at once, the first insert wins and both read it back.
 */
export async function loadApiTokenKey(store: Store): Promise<Uint8Array> {
  await store
    .insertInto('meta')
    .values({ key: API_TOKEN_KEY_META, value: randomBytes(KEY_BYTES).toString('base64') })
    .onConflict((conflict) => conflict.column('key').doNothing())
    .execute();
  const row = await store
    .selectFrom('meta')
    .select('value')
    .where('key', '=', API_TOKEN_KEY_META)
    .executeTakeFirstOrThrow();
  const key = Buffer.from(row.value, 'base64');
  if (key.length < KEY_BYTES) {
    throw new Error(`The stored ${API_TOKEN_KEY_META} is shorter than ${KEY_BYTES} bytes`);
  }
  return new Uint8Array(key);
}
