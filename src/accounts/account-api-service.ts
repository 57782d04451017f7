import { recordActorEvent, type AuditEvent } from '../audit/audit-log.js';
import { errors } from '../http/errors.js';
import { INVITATION_TTL_DAYS, invitationUrl } from '../invitations/invitation-service.js';
import {
  hashInvitationSecret,
  insertInvitation,
  newInvitationId,
  newInvitationSecret,
} from '../invitations/invitation-store.js';
import type { Store } from '../store/store.js';
import type { Actor } from '../users/caller.js';
import { storeAccount } from './accounts.js';
import { identityErrors } from './identity-errors.js';

const INVITATION_TTL_MS = INVITATION_TTL_DAYS * 24 * 3600 * 1000;

/** An account as the Accounts API shows it. */
export interface AccountView {
  id: string;
  name: string;
  created_at: string;
  /** Whether this is the installation's operator account. */
  operator: boolean;
  user_count: number;
}

/** The answer to a creation: the only place the first Admin's link ever appears. */
export interface CreatedAccount {
  id: string;
  name: string;
  created_at: string;
  admin_id: string;
  admin_email: string;
  invitation_url: string;
  invitation_expires_at: string;
}

function readNewAccount(body: unknown): { name: unknown; adminEmail: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.malformedBody('expected a JSON object');
  }
  const unknown = Object.keys(body).find((key) => key !== 'name' && key !== 'admin_email');
  if (unknown !== undefined) throw errors.invalidParameter(unknown, 'not a field of an account');
  const fields = body as Record<string, unknown>;
  if (fields.admin_email === undefined) throw errors.missingParameter('admin_email');
  return { name: fields.name, adminEmail: fields.admin_email };
}

/**
 * The installation's accounts, for its operators: creates an account with a first Admin who
 * has no password yet and gets a one-time link (an invitation) to choose one; lists and reads
 * accounts. No Machine to Machine application is made: the new Admin creates the account's
 * applications after signing in, so no client secret travels through the operator.
 */
export class AccountApiService {
  constructor(private readonly store: Store) {}

  /** Creates the account, its Admin, the Admin's link and the audit events, all at once. */
  async create(actor: Actor, body: unknown, baseUrl: string): Promise<CreatedAccount> {
    const input = readNewAccount(body);
    const secret = newInvitationSecret();
    let expiresAt = '';

    const account = await storeAccount(this.store, input, async (tx, stored) => {
      const now = new Date(stored.createdAt);
      const record = await insertInvitation(tx, newInvitationId(), {
        accountId: stored.accountId,
        email: stored.adminEmail,
        role: 'admin',
        invitedBy: actor.subject,
        secretHash: hashInvitationSecret(secret),
        createdAt: stored.createdAt,
        expiresAt: new Date(now.getTime() + INVITATION_TTL_MS).toISOString(),
        userId: stored.adminId,
      });
      expiresAt = record.expiresAt;
      const audit = (accountId: string, event: AuditEvent, target: string, details: object) =>
        recordActorEvent(tx, actor, event, target, { ...details }, accountId);
      const facts = { name: stored.name, admin_email: stored.adminEmail };
      // The operator's log says who made which account; the new account's log starts with it.
      await audit(actor.accountId, 'account.created', stored.accountId, facts);
      await audit(stored.accountId, 'account.created', stored.accountId, {
        ...facts,
        operator_account_id: actor.accountId,
      });
      await audit(stored.accountId, 'user.created', stored.adminId, {
        email: stored.adminEmail,
        role: 'admin',
      });
      await audit(stored.accountId, 'invitation.created', record.id, {
        email: record.email,
        role: record.role,
        expires_at: record.expiresAt,
        user_id: stored.adminId,
      });
    });

    return {
      id: account.accountId,
      name: account.name,
      created_at: account.createdAt,
      admin_id: account.adminId,
      admin_email: account.adminEmail,
      invitation_url: invitationUrl(baseUrl, secret),
      invitation_expires_at: expiresAt,
    };
  }

  /** Every account, oldest first, with its number of users. */
  async list(): Promise<AccountView[]> {
    const rows = await this.accountsQuery().execute();
    return rows.map(viewOf);
  }

  /** One account; 404 for an unknown id. */
  async get(accountId: string): Promise<AccountView> {
    const row = await this.accountsQuery().where('accounts.id', '=', accountId).executeTakeFirst();
    if (!row) throw identityErrors.accountNotFound(accountId);
    return viewOf(row);
  }

  private accountsQuery() {
    return this.store
      .selectFrom('accounts')
      .leftJoin('users', 'users.account_id', 'accounts.id')
      .select((eb) => [
        'accounts.id',
        'accounts.name',
        'accounts.created_at',
        'accounts.operator',
        eb.fn.count<number | string>('users.id').as('user_count'),
      ])
      .groupBy(['accounts.id', 'accounts.name', 'accounts.created_at', 'accounts.operator'])
      .orderBy('accounts.created_at')
      .orderBy('accounts.id');
  }
}

function viewOf(row: {
  id: string;
  name: string;
  created_at: string;
  operator: number;
  user_count: number | string;
}): AccountView {
  return {
    id: row.id,
    name: row.name,
    created_at: row.created_at,
    operator: Number(row.operator) === 1,
    // PostgreSQL's count is a bigint, which its driver may hand over as text.
    user_count: Number(row.user_count),
  };
}
