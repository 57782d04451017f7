import { randomBytes } from 'node:crypto';
import { withStoreLock } from '../store/store-lock.js';
import type { Store } from '../store/store.js';
import { ApplicationStore } from '../apps/application-store.js';
import { firstAccountId, markOperatorAccount, operatorAccountId } from './accounts.js';
import {
  generateClientId,
  generateClientSecret,
  verifyClientSecret,
} from '../auth/client-secret.js';

export const BOOTSTRAP_ACCOUNT_NAME = 'Graticule';
export const BOOTSTRAP_ADMIN_EMAIL = 'admin@graticule.local';
export const BOOTSTRAP_APP_NAME = 'Bootstrap machine-to-machine application';

export interface BootstrapResult {
  accountId: string;
  clientId: string;
  /** Present only when this start generated the secret: it is shown once and never again. */
  generatedSecret?: string;
  /** True when the account was created by this start. */
  created: boolean;
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * Creates, on first start, the bootstrap account (flagged as the installation's operator
 * account), its admin user and one Machine to Machine application. Later starts reuse them.
 * Credentials pinned by configuration take precedence. Nodes starting at once on one shared
 * store take turns, so exactly one of them creates (and prints) the account and application.
 */
export async function ensureBootstrap(
  store: Store,
  pinned: { clientId: string; clientSecret: string },
): Promise<BootstrapResult> {
  return withStoreLock(store, 'bootstrap', () => bootstrapUnderLock(store, pinned));
}

async function bootstrapUnderLock(
  store: Store,
  pinned: { clientId: string; clientSecret: string },
): Promise<BootstrapResult> {
  const apps = new ApplicationStore(store);
  let accountId = await operatorAccountId(store);
  if (!accountId) {
    // Accounts made with `graticule accounts create` before the first start: as before the
    // flag, the one created first becomes the installation's operator account.
    accountId = await firstAccountId(store);
    if (accountId) await markOperatorAccount(store, accountId);
  }
  let created = false;
  let adminId: string;

  if (!accountId) {
    accountId = newId('ac');
    adminId = newId('us');
    const now = new Date().toISOString();
    await store.transaction().execute(async (tx) => {
      await tx
        .insertInto('accounts')
        .values({ id: accountId!, name: BOOTSTRAP_ACCOUNT_NAME, created_at: now, operator: 1 })
        .execute();
      await tx
        .insertInto('users')
        .values({
          id: adminId,
          account_id: accountId!,
          email: BOOTSTRAP_ADMIN_EMAIL,
          name: 'Administrator',
          role: 'admin',
          created_at: now,
        })
        .execute();
    });
    created = true;
  } else {
    const admin = await store
      .selectFrom('users')
      .select('id')
      .where('account_id', '=', accountId)
      .where('role', '=', 'admin')
      .executeTakeFirstOrThrow();
    adminId = admin.id;
  }

  const createApp = async (clientId: string, clientSecret: string) =>
    apps.create({
      clientId,
      clientSecret,
      accountId: accountId!,
      ownerUserId: adminId,
      name: BOOTSTRAP_APP_NAME,
      type: 'machine_to_machine',
      tokenEndpointAuthMethod: 'client_secret_post',
    });

  if (pinned.clientId) {
    const app = await apps.findByClientId(pinned.clientId);
    if (!app) {
      const clientSecret = pinned.clientSecret || generateClientSecret();
      await createApp(pinned.clientId, clientSecret);
      return pinned.clientSecret
        ? { accountId, clientId: pinned.clientId, created }
        : { accountId, clientId: pinned.clientId, generatedSecret: clientSecret, created };
    }
    if (pinned.clientSecret && !(await verifyClientSecret(pinned.clientSecret, app.secretHash))) {
      await apps.replaceSecret(pinned.clientId, pinned.clientSecret);
    }
    return { accountId, clientId: pinned.clientId, created };
  }

  const existingApp = await store
    .selectFrom('applications')
    .select('client_id')
    .where('account_id', '=', accountId)
    .where('name', '=', BOOTSTRAP_APP_NAME)
    .executeTakeFirst();
  if (existingApp) return { accountId, clientId: existingApp.client_id, created };

  const clientId = generateClientId();
  const clientSecret = generateClientSecret();
  await createApp(clientId, clientSecret);
  return { accountId, clientId, generatedSecret: clientSecret, created };
}
