import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { errors } from '../http/errors.js';
import type { StoreSchema } from '../store/schema.js';
import { isUniqueViolation } from '../store/store-dialect.js';
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

/** An account and its first Admin as just stored, before anything else is added to them. */
export interface StoredAccount {
  accountId: string;
  name: string;
  createdAt: string;
  adminId: string;
  adminEmail: string;
}

type StoreTransaction = Transaction<StoreSchema>;

const MAX_ACCOUNT_NAME_LENGTH = 255;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** A checked account name, trimmed: 1 to 255 characters, no control characters. */
export function checkAccountName(value: unknown): string {
  if (value === undefined || value === null) throw errors.missingParameter('name');
  if (typeof value !== 'string') throw errors.invalidParameter('name', 'expected a string');
  const name = value.trim();
  if (name === '' || name.length > MAX_ACCOUNT_NAME_LENGTH) {
    throw errors.invalidParameter('name', 'an account name of 1 to 255 characters');
  }
  if (CONTROL_CHARACTERS.test(name)) {
    throw errors.invalidParameter('name', 'must not contain control characters');
  }
  return name;
}

/**
 * Stores an account (a tenant) and its first Admin in one transaction, in which `within` runs
 * too, so what it adds (an invitation, audit events) is stored with them or not at all. The
 * Admin has no password unless `adminPasswordHash` is given.
 */
export async function storeAccount(
  store: Store,
  input: {
    name: unknown;
    /** Absent: `admin@<account id>.local`. */
    adminEmail?: unknown;
    /** How errors name the e-mail. */
    adminEmailField?: string;
    adminPasswordHash?: string | null;
  },
  within?: (tx: StoreTransaction, account: StoredAccount) => Promise<void>,
): Promise<StoredAccount> {
  const name = checkAccountName(input.name);
  const accountId = newId('ac');
  const adminEmail = checkEmail(
    input.adminEmail === undefined ? `admin@${accountId}.local` : input.adminEmail,
    input.adminEmailField ?? 'admin_email',
  );
  if (await new UserStore(store).isEmailTaken(adminEmail)) {
    throw identityErrors.emailTaken(adminEmail);
  }
  const account: StoredAccount = {
    accountId,
    name,
    createdAt: new Date().toISOString(),
    adminId: newId('us'),
    adminEmail,
  };

  try {
    await store.transaction().execute(async (tx) => {
      const { accountId, createdAt: now } = account;
      await tx.insertInto('accounts').values({ id: accountId, name, created_at: now }).execute();
      await tx
        .insertInto('users')
        .values({
          id: account.adminId,
          account_id: accountId,
          email: adminEmail,
          name: 'Administrator',
          role: 'admin',
          password_hash: input.adminPasswordHash ?? null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await within?.(tx, account);
    });
  } catch (error) {
    // Another request took the address after the check above.
    if (isUniqueViolation(error)) throw identityErrors.emailTaken(adminEmail);
    throw error;
  }
  return account;
}

/**
 * Creates an account (a tenant) with an admin user and a Machine to Machine application, so
 * the new account can get tokens at once. The admin can sign in when given a password.
 */
export async function createAccount(
  store: Store,
  input: { name: string; adminEmail?: string; adminPassword?: string },
): Promise<NewAccount> {
  checkAccountName(input.name);
  const passwordHash =
    input.adminPassword === undefined
      ? null
      : await hashPassword(checkPassword(input.adminPassword, 'admin password'));
  const account = await storeAccount(store, {
    name: input.name,
    adminEmail: input.adminEmail,
    adminEmailField: 'admin e-mail',
    adminPasswordHash: passwordHash,
  });

  const clientId = generateClientId();
  const clientSecret = generateClientSecret();
  await new ApplicationStore(store).create({
    clientId,
    clientSecret,
    accountId: account.accountId,
    ownerUserId: account.adminId,
    name: `${account.name} machine-to-machine application`,
    type: 'machine_to_machine',
    tokenEndpointAuthMethod: 'client_secret_post',
  });
  return { accountId: account.accountId, adminEmail: account.adminEmail, clientId, clientSecret };
}

export async function listAccounts(store: Store): Promise<AccountSummary[]> {
  const rows = await store.selectFrom('accounts').selectAll().orderBy('created_at').execute();
  return rows.map((row) => ({ id: row.id, name: row.name, createdAt: row.created_at }));
}

/**
 * The CLI's default account: the operator account (the one a fresh install bootstraps), or,
 * before the server's first start, the account created first.
 */
export async function firstAccountId(store: Store): Promise<string | undefined> {
  const row = await store
    .selectFrom('accounts')
    .select('id')
    .orderBy('operator', 'desc')
    .orderBy('created_at')
    .orderBy('id')
    .executeTakeFirst();
  return row?.id;
}

/** The installation's operator account, flagged by the bootstrap; undefined before it ran. */
export async function operatorAccountId(store: Store): Promise<string | undefined> {
  const row = await store
    .selectFrom('accounts')
    .select('id')
    .where('operator', '=', 1)
    .executeTakeFirst();
  return row?.id;
}

/** Makes an account the operator account; the store keeps at most one. */
export async function markOperatorAccount(store: Store, accountId: string): Promise<void> {
  await store.updateTable('accounts').set({ operator: 1 }).where('id', '=', accountId).execute();
}
