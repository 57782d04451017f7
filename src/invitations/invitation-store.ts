import { createHash, randomBytes } from 'node:crypto';
import type { Selectable, Transaction } from 'kysely';
import type { InvitationsTable, StoreSchema, UserRole } from '../store/schema.js';
import { isUniqueViolation } from '../store/store-dialect.js';
import type { Store } from '../store/store.js';

/** An invitation as the store holds it; the secret itself is never stored. */
export interface InvitationRecord {
  id: string;
  accountId: string;
  email: string;
  role: UserRole;
  invitedBy: string;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  acceptedUserId: string | null;
  revokedAt: string | null;
  /** The existing user (without a password) whose password the link sets; null to join. */
  userId: string | null;
}

export interface NewInvitation {
  accountId: string;
  email: string;
  role: UserRole;
  invitedBy: string;
  secretHash: string;
  createdAt: string;
  expiresAt: string;
  /** For a link that sets the password of this existing user instead of adding one. */
  userId?: string;
}

/** Thrown when the account got another open invitation for the address meanwhile. */
export class DuplicateOpenInvitation extends Error {
  override readonly name = 'DuplicateOpenInvitation';
}

/** A link's secret: 32 random bytes (256 bits), base64url. */
export function newInvitationSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What the store keeps of a secret. A plain SHA-256 suffices: the secret is random and long,
 * so there is nothing to guess that a slow hash would protect.
 */
export function hashInvitationSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function toRecord(row: Selectable<InvitationsTable>): InvitationRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    email: row.email,
    role: row.role,
    invitedBy: row.invited_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    acceptedAt: row.accepted_at,
    acceptedUserId: row.accepted_user_id,
    revokedAt: row.revoked_at,
    userId: row.user_id,
  };
}

/** Whether an invitation can still be accepted at `nowIso`. */
export function isOpen(record: InvitationRecord, nowIso: string): boolean {
  return record.acceptedAt === null && record.revokedAt === null && record.expiresAt > nowIso;
}

/**
 * Invitations of every account (table `invitations`). Timestamps are ISO-8601 UTC strings of
 * one length, so comparing them as text compares them as times, on SQLite and PostgreSQL.
 */
export class InvitationStore {
  constructor(private readonly store: Store) {}

  /**
   * Adds an invitation, first revoking the account's open (or expired, not yet revoked) ones
   * for the same address, in one transaction. Answers the new record and the ids replaced.
   */
  async replaceAndInsert(
    input: NewInvitation,
  ): Promise<{ record: InvitationRecord; replaced: string[] }> {
    const id = newInvitationId();
    try {
      return await this.store.transaction().execute(async (tx) => {
        const replaced = await tx
          .updateTable('invitations')
          .set({ revoked_at: input.createdAt })
          .where('account_id', '=', input.accountId)
          .where('email', '=', input.email)
          .where('accepted_at', 'is', null)
          .where('revoked_at', 'is', null)
          .returning('id')
          .execute();
        const record = await insertInvitation(tx, id, input);
        return { record, replaced: replaced.map((r) => r.id) };
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new DuplicateOpenInvitation(input.email, { cause: error });
      throw error;
    }
  }

  /** An account's open invitations at `nowIso`, oldest first. */
  async listOpen(accountId: string, nowIso: string): Promise<InvitationRecord[]> {
    const rows = await this.store
      .selectFrom('invitations')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', nowIso)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  /** An account's invitation by id; undefined for another account's, as for a missing one. */
  async find(accountId: string, id: string): Promise<InvitationRecord | undefined> {
    const row = await this.store
      .selectFrom('invitations')
      .selectAll()
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** The invitation a link's secret belongs to, whatever its state. */
  async findBySecret(secret: string): Promise<InvitationRecord | undefined> {
    const row = await this.store
      .selectFrom('invitations')
      .selectAll()
      .where('secret_hash', '=', hashInvitationSecret(secret))
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** Revokes an open invitation; false when it was no longer open. */
  async revoke(id: string, nowIso: string): Promise<boolean> {
    const result = await this.store
      .updateTable('invitations')
      .set({ revoked_at: nowIso })
      .where('id', '=', id)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

type StoreTransaction = Transaction<StoreSchema>;

/** Adds an invitation in a transaction of the caller's; answers it as stored. */
export async function insertInvitation(
  tx: StoreTransaction,
  id: string,
  input: NewInvitation,
): Promise<InvitationRecord> {
  await tx
    .insertInto('invitations')
    .values({
      id,
      account_id: input.accountId,
      email: input.email,
      role: input.role,
      secret_hash: input.secretHash,
      invited_by: input.invitedBy,
      created_at: input.createdAt,
      expires_at: input.expiresAt,
      user_id: input.userId ?? null,
    })
    .execute();
  const row = await tx
    .selectFrom('invitations')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return toRecord(row);
}

/** A new invitation id, `inv_<hex>`. */
export function newInvitationId(): string {
  return `inv_${randomBytes(8).toString('hex')}`;
}

/**
 * Marks an invitation used, if it still is open at `nowIso`: one conditional `UPDATE`, so of
 * two acceptances at once exactly one claims it (PostgreSQL re-checks the condition on the row
 * the first one locked; SQLite runs one writer at a time). Run it in the transaction that
 * creates the user, so a failure there leaves the invitation open.
 */
export async function claimInvitation(
  tx: StoreTransaction,
  id: string,
  nowIso: string,
): Promise<boolean> {
  const result = await tx
    .updateTable('invitations')
    .set({ accepted_at: nowIso })
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', nowIso)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Records which user an invitation made (in the transaction that claimed it). */
export async function recordInvitedUser(
  tx: StoreTransaction,
  id: string,
  userId: string,
): Promise<void> {
  await tx
    .updateTable('invitations')
    .set({ accepted_user_id: userId })
    .where('id', '=', id)
    .execute();
}
