import { identityErrors } from '../accounts/identity-errors.js';
import { recordActorEvent, recordAuditEvent, type AuditEvent } from '../audit/audit-log.js';
import { hashPassword, passwordProblem } from '../auth/password.js';
import { ApiError, errors } from '../http/errors.js';
import type { Store } from '../store/store.js';
import type { Transaction } from 'kysely';
import type { StoreSchema, UserRole } from '../store/schema.js';
import type { Actor } from '../users/caller.js';
import { checkEmail, checkRole, readNewUser } from '../users/user-settings.js';
import { DuplicateEmail, UserStore, type UserRecord } from '../users/user-store.js';
import { invitationErrors } from './invitation-errors.js';
import {
  DuplicateOpenInvitation,
  InvitationStore,
  claimInvitation,
  hashInvitationSecret,
  isOpen,
  newInvitationSecret,
  recordInvitedUser,
  type InvitationRecord,
} from './invitation-store.js';

/** How long an invitation link works. */
export const INVITATION_TTL_DAYS = 7;
const INVITATION_TTL_MS = INVITATION_TTL_DAYS * 24 * 3600 * 1000;

/** Where the acceptance page of a link lives, below the server's public URL. */
export const INVITATION_PATH = '/invitations';

/** An invitation as the API shows it; never the secret or its hash. */
export interface InvitationView {
  id: string;
  email: string;
  role: UserRole;
  invited_by: string;
  created_at: string;
  expires_at: string;
}

/** The answer to an invitation: the only place its link (and secret) ever appears. */
export interface CreatedInvitation extends InvitationView {
  invitation_url: string;
}

/** What the acceptance page shows about an open invitation. */
export interface InvitationSummary {
  email: string;
  role: UserRole;
  accountName: string;
}

/** How an acceptance went. `unusable` covers unknown, used, revoked and expired links alike. */
export type AcceptOutcome =
  | { status: 'accepted'; userId: string; email: string }
  | { status: 'unusable' }
  | { status: 'email_taken' }
  | { status: 'invalid'; field: 'name' | 'password'; message: string };

function viewOf(record: InvitationRecord): InvitationView {
  return {
    id: record.id,
    email: record.email,
    role: record.role,
    invited_by: record.invitedBy,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
  };
}

/** The link of a secret on the server's public base URL (no trailing slash). */
export function invitationUrl(baseUrl: string, secret: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${INVITATION_PATH}/${secret}`;
}

function readNewInvitation(body: unknown): { email: string; role: UserRole } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.malformedBody('expected a JSON object');
  }
  const unknown = Object.keys(body).find((key) => key !== 'email' && key !== 'role');
  if (unknown !== undefined) throw errors.invalidParameter(unknown, 'not a field of an invitation');
  const fields = body as Record<string, unknown>;
  const email = checkEmail(fields.email);
  if (fields.role === undefined) throw errors.missingParameter('role');
  return { email, role: checkRole(fields.role) };
}

/** The user a password link was made for was deleted or has a password meanwhile. */
class UserNoLongerWaiting extends Error {
  override readonly name = 'UserNoLongerWaiting';
}

/**
 * Sets name and password of the existing user a link was made for (an account's first Admin,
 * created without a password), if that user still has none; throws otherwise, so the
 * transaction rolls back and the link stays as it was.
 */
async function setFirstPassword(
  tx: Transaction<StoreSchema>,
  record: InvitationRecord,
  change: { name: string; passwordHash: string },
): Promise<UserRecord> {
  const updated = await tx
    .updateTable('users')
    .set({
      name: change.name,
      password_hash: change.passwordHash,
      failed_logins: 0,
      locked_until: null,
      updated_at: new Date().toISOString(),
    })
    .where('id', '=', record.userId!)
    .where('account_id', '=', record.accountId)
    .where('password_hash', 'is', null)
    .executeTakeFirst();
  const user = await new UserStore(tx).find(record.accountId, record.userId!);
  if (Number(updated.numUpdatedRows) === 0 || !user) throw new UserNoLongerWaiting();
  return user;
}

/**
 * Invitations to join an account, shared by the HTTP routes, the acceptance page and the CLI.
 * A new invitation for an address replaces the account's pending one for it. Accepting creates
 * the user and uses the invitation up in one transaction, exactly once. A link made for an
 * existing user without a password (an account's first Admin) sets that user's password.
 */
export class InvitationService {
  private readonly invitations: InvitationStore;

  constructor(private readonly store: Store) {
    this.invitations = new InvitationStore(store);
  }

  private async audit(
    actor: Actor,
    event: AuditEvent,
    target: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await recordActorEvent(this.store, actor, event, target, details);
  }

  /** Invites an address not yet taken by any user; answers the link, shown this once. */
  async create(actor: Actor, body: unknown, baseUrl: string): Promise<CreatedInvitation> {
    const input = readNewInvitation(body);
    // E-mails are unique across the install: a user anywhere already has this one.
    if (await new UserStore(this.store).isEmailTaken(input.email)) {
      throw identityErrors.emailTaken(input.email);
    }
    const secret = newInvitationSecret();
    const now = new Date();

    let created: Awaited<ReturnType<InvitationStore['replaceAndInsert']>>;
    try {
      created = await this.invitations.replaceAndInsert({
        accountId: actor.accountId,
        email: input.email,
        role: input.role,
        invitedBy: actor.subject,
        secretHash: hashInvitationSecret(secret),
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + INVITATION_TTL_MS).toISOString(),
      });
    } catch (error) {
      if (error instanceof DuplicateOpenInvitation) {
        throw invitationErrors.invitationConflict(input.email);
      }
      throw error;
    }

    const { record, replaced } = created;
    for (const id of replaced) {
      await this.audit(actor, 'invitation.revoked', id, {
        email: record.email,
        replaced_by: record.id,
      });
    }
    await this.audit(actor, 'invitation.created', record.id, {
      email: record.email,
      role: record.role,
      expires_at: record.expiresAt,
    });
    return { ...viewOf(record), invitation_url: invitationUrl(baseUrl, secret) };
  }

  /** The account's pending invitations, oldest first. */
  async list(accountId: string): Promise<InvitationView[]> {
    const records = await this.invitations.listOpen(accountId, new Date().toISOString());
    return records.map(viewOf);
  }

  /** Withdraws a pending invitation of the account: its link stops working at once. */
  async revoke(actor: Actor, id: string): Promise<void> {
    const record = await this.invitations.find(actor.accountId, id);
    const now = new Date().toISOString();
    if (!record || !isOpen(record, now) || !(await this.invitations.revoke(record.id, now))) {
      throw invitationErrors.invitationNotFound(id);
    }
    await this.audit(actor, 'invitation.revoked', record.id, { email: record.email });
  }

  /** What the page of an open invitation shows; undefined for any link that cannot be used. */
  async summary(secret: string): Promise<InvitationSummary | undefined> {
    const record = await this.invitations.findBySecret(secret);
    if (!record || !isOpen(record, new Date().toISOString())) return undefined;
    const account = await this.store
      .selectFrom('accounts')
      .select('name')
      .where('id', '=', record.accountId)
      .executeTakeFirst();
    return { email: record.email, role: record.role, accountName: account?.name ?? '' };
  }

  /**
   * Creates the invited user with the name and password given (the users API's rules), in the
   * inviting account with the invited role, and uses the invitation up.
   */
  async accept(
    secret: string,
    form: { name: string; password: string },
    ip: string,
  ): Promise<AcceptOutcome> {
    const record = await this.invitations.findBySecret(secret);
    if (!record || !isOpen(record, new Date().toISOString())) return { status: 'unusable' };
    const problem = passwordProblem(form.password);
    if (problem !== null) return { status: 'invalid', field: 'password', message: problem };
    let name: string;
    try {
      const body = { email: record.email, role: record.role, password: form.password };
      ({ name } = readNewUser(form.name.trim() === '' ? body : { ...body, name: form.name }));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const message = error.message.replace(/^Invalid parameter 'name': (longer)?/, (_, longer) =>
        longer ? 'the name is longer' : 'the name ',
      );
      return { status: 'invalid', field: 'name', message };
    }
    // Hashed before the transaction: no lock is held while scrypt runs.
    const passwordHash = await hashPassword(form.password);

    try {
      return await this.store.transaction().execute(async (tx) => {
        const now = new Date().toISOString();
        if (!(await claimInvitation(tx, record.id, now))) return { status: 'unusable' } as const;
        const users = new UserStore(tx);
        const user =
          record.userId === null
            ? await users.create({
                accountId: record.accountId,
                email: record.email,
                name,
                role: record.role,
                passwordHash,
              })
            : await setFirstPassword(tx, record, { name, passwordHash });
        await recordInvitedUser(tx, record.id, user.id);
        const audit = (event: AuditEvent, target: string, extra: Record<string, unknown> = {}) =>
          recordAuditEvent(tx, {
            accountId: record.accountId,
            event,
            actor: user.id,
            target,
            ip,
            details: { email: user.email, role: user.role, invitation_id: record.id, ...extra },
          });
        if (record.userId === null) await audit('user.created', user.id);
        else await audit('user.updated', user.id, { fields: ['name', 'password'] });
        await audit('invitation.accepted', record.id);
        return { status: 'accepted', userId: user.id, email: user.email } as const;
      });
    } catch (error) {
      // A user took the address after the invitation was made: the invitation stays open.
      if (error instanceof DuplicateEmail) return { status: 'email_taken' };
      // The user the link was for is gone or has a password now: the link is used up no more.
      if (error instanceof UserNoLongerWaiting) return { status: 'unusable' };
      throw error;
    }
  }
}
