import { randomBytes } from 'node:crypto';
import { errors } from '../http/errors.js';
import type { Store } from '../store/store.js';
import { ApplicationStore } from '../apps/application-store.js';
import { generateClientId, generateClientSecret } from '../auth/client-secret.js';
import { hashPassword } from '../auth/password.js';
import { checkEmail, checkPassword } from '../users/user-settings.js';
import { UserStore } from '../users/user-store.js';
import { identityErrors } from './identity-errors.js';

export interface NewAccount {
  accountId: string;
  adminEmail: string;
  clientId: string;
  /** Shown once; only its hash is stored. */
  clientSecret: string;
}

export interface AccountSummary {
  id: string;
  name: string;
  createdAt: string;
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * Creates an account (a tenant) with an admin user and a Machine to Machine application, so
 * the new account can get tokens at once. The admin can sign in when given a password.
 */
export async function createAccount(
  store: Store,
  input: { name: string; adminEmail?: string; adminPassword?: string },
): Promise<NewAccount> {
  const name = input.name.trim();
  if (name === '' || name.length > 255) {
    throw errors.invalidParameter('name', 'an account name of 1 to 255 characters');
  }
  const accountId = newId('ac');
  const adminId = newId('us');
  const adminEmail = checkEmail(input.adminEmail ?? `admin@${accountId}.local`, 'admin e-mail');
  if (await new UserStore(store).isEmailTaken(adminEmail)) {
    throw identityErrors.emailTaken(adminEmail);
  }
  const passwordHash =
    input.adminPassword === undefined
      ? null
      : await hashPassword(checkPassword(input.adminPassword, 'admin password'));
  const now = new Date().toISOString();
  await store.transaction().execute(async (tx) => {
    await tx.insertInto('accounts').values({ id: accountId, name, created_at: now }).execute();
    await tx
      .insertInto('users')
      .values({
        id: adminId,
        account_id: accountId,
        email: adminEmail,
        name: 'Administrator',
        role: 'admin',
        password_hash: passwordHash,
        created_at: now,
        updated_at: now,
      })
      .execute();
  });
  const clientId = generateClientId();
  const clientSecret = generateClientSecret();
  await new ApplicationStore(store).create({
    clientId,
    clientSecret,
    accountId,
    ownerUserId: adminId,
    name: `${name} machine-to-machine application`,
    type: 'machine_to_machine',
    tokenEndpointAuthMethod: 'client_secret_post',
  });
  return { accountId, adminEmail, clientId, clientSecret };
}

export async function listAccounts(store: Store): Promise<AccountSummary[]> {
  const rows = await store.selectFrom('accounts').selectAll().orderBy('created_at').execute();
  return rows.map((row) => ({ id: row.id, name: row.name, createdAt: row.created_at }));
}

/** The account created first: the one a fresh install bootstraps, and the CLI's default. */
export async function firstAccountId(store: Store): Promise<string | undefined> {
  const row = await store
    .selectFrom('accounts')
    .select('id')
    .orderBy('created_at')
    .executeTakeFirst();
  return row?.id;
}
