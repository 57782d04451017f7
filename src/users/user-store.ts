import { randomBytes } from 'node:crypto';
import { sql, type Selectable, type Updateable } from 'kysely';
import { isUniqueViolation } from '../store/store-dialect.js';
import type { Store } from '../store/store.js';
import type { UserRole, UsersTable } from '../store/schema.js';

/** A user as the store holds it, without the password hash. */
export interface UserRecord {
  id: string;
  accountId: string;
  email: string;
  name: string;
  role: UserRole;
  hasPassword: boolean;
  disabledAt: string | null;
  lockedUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewUser {
  accountId: string;
  email: string;
  name: string;
  role: UserRole;
  passwordHash: string | null;
}

export interface UserUpdate {
  name?: string;
  role?: UserRole;
  /** A new password hash; setting one also ends a lockout. */
  passwordHash?: string;
  disabledAt?: string | null;
}

/** Thrown when the e-mail is taken: e-mails are unique across the install. */
export class DuplicateEmail extends Error {
  override readonly name = 'DuplicateEmail';
}

/** A new user id, `us_<hex>` like the ids of accounts' first users. */
export function newUserId(): string {
  return `us_${randomBytes(6).toString('hex')}`;
}

function toRecord(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    email: row.email,
    name: row.name,
    role: row.role,
    hasPassword: row.password_hash !== null && row.password_hash !== '',
    disabledAt: row.disabled_at,
    lockedUntil: row.locked_until,
    createdAt: row.created_at,
    // Users made before `updated_at` existed have it empty.
    updatedAt: row.updated_at || row.created_at,
  };
}

/** The users of every account. Password hashes go in, never out. */
export class UserStore {
  constructor(private readonly store: Store) {}

  /** An account's users, oldest first. */
  async list(accountId: string): Promise<UserRecord[]> {
    const rows = await this.store
      .selectFrom('users')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  /** An account's user by id; undefined for another account's, as for a missing one. */
  async find(accountId: string, userId: string): Promise<UserRecord | undefined> {
    const row = await this.store
      .selectFrom('users')
      .selectAll()
      .where('id', '=', userId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** An account's user by e-mail, compared without case. */
  async findByEmail(accountId: string, email: string): Promise<UserRecord | undefined> {
    const row = await this.store
      .selectFrom('users')
      .selectAll()
      .where(sql<string>`lower(email)`, '=', email.toLowerCase())
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** Whether any account has a user with this e-mail, compared without case. */
  async isEmailTaken(email: string): Promise<boolean> {
    const row = await this.store
      .selectFrom('users')
      .select('id')
      .where(sql<string>`lower(email)`, '=', email.toLowerCase())
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The account's first enabled admin: who owns what the command line creates. */
  async firstActiveAdmin(accountId: string): Promise<UserRecord | undefined> {
    const row = await this.store
      .selectFrom('users')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** The account's enabled admins. */
  async countActiveAdmins(accountId: string): Promise<number> {
    const row = await this.store
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('account_id', '=', accountId)
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Creates a user; throws `DuplicateEmail` when the e-mail is taken. */
  async create(input: NewUser): Promise<UserRecord> {
    const now = new Date().toISOString();
    const id = newUserId();
    try {
      await this.store
        .insertInto('users')
        .values({
          id,
          account_id: input.accountId,
          email: input.email,
          name: input.name,
          role: input.role,
          password_hash: input.passwordHash,
          created_at: now,
          updated_at: now,
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateEmail(input.email, { cause: error });
      throw error;
    }
    return (await this.find(input.accountId, id))!;
  }

  async update(userId: string, changes: UserUpdate): Promise<void> {
    const columns: Updateable<UsersTable> = { updated_at: new Date().toISOString() };
    if (changes.name !== undefined) columns.name = changes.name;
    if (changes.role !== undefined) columns.role = changes.role;
    if (changes.disabledAt !== undefined) columns.disabled_at = changes.disabledAt;
    if (changes.passwordHash !== undefined) {
      columns.password_hash = changes.passwordHash;
      columns.failed_logins = 0;
      columns.locked_until = null;
    }
    await this.store.updateTable('users').set(columns).where('id', '=', userId).execute();
  }

  async remove(userId: string): Promise<void> {
    await this.store.deleteFrom('users').where('id', '=', userId).execute();
  }
}
