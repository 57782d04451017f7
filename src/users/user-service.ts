import { identityErrors } from '../accounts/identity-errors.js';
import { ApplicationStore } from '../apps/application-store.js';
import { recordActorEvent, type AuditEvent } from '../audit/audit-log.js';
import { hashPassword } from '../auth/password.js';
import type { Store } from '../store/store.js';
import type { UserRole } from '../store/schema.js';
import type { Actor } from './caller.js';
import { readNewUser, readUserChanges } from './user-settings.js';
import { DuplicateEmail, UserStore, type UserRecord, type UserUpdate } from './user-store.js';

/** A user as the API shows it; never the password hash. */
export interface UserView {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  disabled: boolean;
  disabled_at: string | null;
  has_password: boolean;
  locked_until: string | null;
  created_at: string;
  updated_at: string;
}

export function userViewOf(user: UserRecord): UserView {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    disabled: user.disabledAt !== null,
    disabled_at: user.disabledAt,
    has_password: user.hasPassword,
    locked_until: user.lockedUntil,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
  };
}

/**
 * The users of an account, shared by the HTTP routes and the CLI. The account keeps at least
 * one enabled admin; admins do not change their own role, disable or delete themselves.
 */
export class UserService {
  private readonly users: UserStore;

  constructor(private readonly store: Store) {
    this.users = new UserStore(store);
  }

  private async audit(
    actor: Actor,
    event: AuditEvent,
    userId: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await recordActorEvent(this.store, actor, event, userId, details);
  }

  async list(accountId: string): Promise<UserView[]> {
    return (await this.users.list(accountId)).map(userViewOf);
  }

  /** An account's user by id, or by e-mail (for the command line). */
  async find(accountId: string, idOrEmail: string): Promise<UserRecord> {
    const user = idOrEmail.includes('@')
      ? await this.users.findByEmail(accountId, idOrEmail)
      : await this.users.find(accountId, idOrEmail);
    if (!user) throw identityErrors.userNotFound(idOrEmail);
    return user;
  }

  async get(accountId: string, idOrEmail: string): Promise<UserView> {
    return userViewOf(await this.find(accountId, idOrEmail));
  }

  async create(actor: Actor, body: unknown): Promise<UserView> {
    const input = readNewUser(body);
    if (await this.users.isEmailTaken(input.email)) throw identityErrors.emailTaken(input.email);
    let user: UserRecord;
    try {
      user = await this.users.create({
        accountId: actor.accountId,
        email: input.email,
        name: input.name,
        role: input.role,
        passwordHash: input.password === undefined ? null : await hashPassword(input.password),
      });
    } catch (error) {
      if (error instanceof DuplicateEmail) throw identityErrors.emailTaken(input.email);
      throw error;
    }
    await this.audit(actor, 'user.created', user.id, { email: user.email, role: user.role });
    return userViewOf(user);
  }

  async update(actor: Actor, idOrEmail: string, body: unknown): Promise<UserView> {
    const changes = readUserChanges(body);
    const user = await this.find(actor.accountId, idOrEmail);
    const isSelf = actor.userId === user.id;
    if (isSelf && changes.role !== undefined && changes.role !== user.role) {
      throw identityErrors.userConflict('You cannot change your own role');
    }
    if (isSelf && changes.disabled === true) {
      throw identityErrors.userConflict('You cannot disable yourself');
    }
    const losesAdmin =
      user.role === 'admin' &&
      user.disabledAt === null &&
      ((changes.role !== undefined && changes.role !== 'admin') || changes.disabled === true);
    if (losesAdmin && (await this.users.countActiveAdmins(actor.accountId)) <= 1) {
      throw identityErrors.userConflict('The account needs at least one enabled admin');
    }

    const update: UserUpdate = { name: changes.name, role: changes.role };
    if (changes.password !== undefined) update.passwordHash = await hashPassword(changes.password);
    if (changes.disabled !== undefined) {
      update.disabledAt = changes.disabled ? (user.disabledAt ?? new Date().toISOString()) : null;
    }
    await this.users.update(user.id, update);

    const details: Record<string, unknown> = { fields: Object.keys(changes) };
    if (changes.role !== undefined) details.role = changes.role;
    if (changes.disabled !== undefined) details.disabled = changes.disabled;
    await this.audit(actor, 'user.updated', user.id, details);
    return this.get(actor.accountId, user.id);
  }

  async remove(actor: Actor, idOrEmail: string): Promise<void> {
    const user = await this.find(actor.accountId, idOrEmail);
    if (actor.userId === user.id) throw identityErrors.userConflict('You cannot delete yourself');
    if (
      user.role === 'admin' &&
      user.disabledAt === null &&
      (await this.users.countActiveAdmins(actor.accountId)) <= 1
    ) {
      throw identityErrors.userConflict('The account needs at least one enabled admin');
    }
    const owned = await new ApplicationStore(this.store).countOwnedBy(user.id);
    if (owned > 0) {
      throw identityErrors.userConflict(
        `The user owns ${owned} application${owned === 1 ? '' : 's'}; delete ` +
          `${owned === 1 ? 'it' : 'them'} first`,
      );
    }
    await this.users.remove(user.id);
    await this.audit(actor, 'user.deleted', user.id, { email: user.email });
  }
}
