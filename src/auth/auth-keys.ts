import type { Store } from '../store/store.js';
import { newCookieKey } from './oidc/oauth-server.js';
import { pruneExpiredOAuthRecords } from './oidc/store-adapter.js';
import { loadSigningKeys, signingKeysVersion, type SigningKeys } from './signing-keys.js';
import type { TokenService } from './token-service.js';

const COOKIE_KEYS = 'oauth_cookie_keys';
/** A token naming an unknown key makes a node look again, at most this often. */
const UNKNOWN_KEY_CHECK_MS = 5_000;
const PRUNE_MS = 10 * 60_000;

/** The keys signing the OAuth server's cookies, shared by every node of the store. */
export async function loadCookieKeys(store: Store): Promise<string[]> {
  const row = await store
    .selectFrom('meta')
    .select('value')
    .where('key', '=', COOKIE_KEYS)
    .executeTakeFirst();
  if (row) return JSON.parse(row.value) as string[];
  const keys = [newCookieKey()];
  await store
    .insertInto('meta')
    .values({ key: COOKIE_KEYS, value: JSON.stringify(keys) })
    .onConflict((c) => c.column('key').doNothing())
    .execute();
  const stored = await store
    .selectFrom('meta')
    .select('value')
    .where('key', '=', COOKIE_KEYS)
    .executeTakeFirstOrThrow();
  return JSON.parse(stored.value) as string[];
}

/**
 * The signing keys a node uses, kept in step with the store: a rotation (by the CLI, or by
 * another node) reaches this node within its key check interval, or at once when a token
 * signed with
 * the new key arrives first.
 */
export class SigningKeyRing {
  private version = '';
  private lastCheck = 0;
  private timers: NodeJS.Timeout[] = [];

  private constructor(
    private readonly store: Store,
    private keys: SigningKeys,
  ) {}

  static async open(store: Store): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(store, await loadSigningKeys(store));
    ring.version = await signingKeysVersion(store);
    return ring;
  }

  get current(): SigningKeys {
    return this.keys;
  }

  /** Reloads the keys when the stored set changed; answers whether it did. */
  async refresh(): Promise<boolean> {
    this.lastCheck = Date.now();
    const version = await signingKeysVersion(this.store);
    if (version === this.version) return false;
    this.keys = await loadSigningKeys(this.store);
    this.version = await signingKeysVersion(this.store);
    return true;
  }

  /** Keeps `tokens` verifying with the current keys, and prunes expired OAuth records. */
  watch(tokens: TokenService, checkMs: number, onError: (error: unknown) => void): void {
    tokens.onUnknownKey = async () => {
      if (Date.now() - this.lastCheck < UNKNOWN_KEY_CHECK_MS) return false;
      const changed = await this.refresh();
      if (changed) tokens.replaceKeys(this.keys);
      return changed;
    };
    const check = () => {
      this.refresh()
        .then((changed) => changed && tokens.replaceKeys(this.keys))
        .catch(onError);
    };
    const prune = () => {
      pruneExpiredOAuthRecords(this.store).catch(onError);
    };
    this.timers = [setInterval(check, checkMs), setInterval(prune, PRUNE_MS)];
    for (const timer of this.timers) timer.unref();
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }
}
