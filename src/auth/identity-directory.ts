import type { UserRole } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { errors } from '../http/errors.js';
import { permissionsForRole } from './permissions.js';
import type { Principal } from './token-service.js';

/** What each role may do now, as sets: every admitted token is narrowed to its role's. */
const ALLOWED_BY_ROLE: Record<UserRole, ReadonlySet<string>> = {
  admin: new Set(permissionsForRole('admin')),
  editor: new Set(permissionsForRole('editor')),
  viewer: new Set(permissionsForRole('viewer')),
};

interface DirectoryUser {
  accountId: string;
  role: UserRole;
  disabled: boolean;
}

interface DirectoryApp {
  accountId: string;
  ownerUserId: string;
}

/**
 * Who may still act, as every node knows it without a database round trip per request: the
 * users (their role, whether disabled) and the applications, reloaded every few seconds. A
 * token of a disabled or deleted user, or of a deleted application, stops working within that
 * interval on every node, and a changed role applies to tokens issued before the change.
 */
export class IdentityDirectory {
  private users = new Map<string, DirectoryUser>();
  private apps = new Map<string, DirectoryApp>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly store: Store) {}

  async refresh(): Promise<void> {
    const [users, apps] = await Promise.all([
      this.store.selectFrom('users').select(['id', 'account_id', 'role', 'disabled_at']).execute(),
      this.store
        .selectFrom('applications')
        .select(['client_id', 'account_id', 'owner_user_id'])
        .execute(),
    ]);
    this.users = new Map(
      users.map((u) => [
        u.id,
        { accountId: u.account_id, role: u.role, disabled: u.disabled_at !== null },
      ]),
    );
    this.apps = new Map(
      apps.map((a) => [a.client_id, { accountId: a.account_id, ownerUserId: a.owner_user_id }]),
    );
  }

  /** Reloads every `intervalMs`; call `stop()` to end. */
  watch(intervalMs: number, onError: (error: unknown) => void): void {
    this.timer = setInterval(() => this.refresh().catch(onError), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Subjects looked up in vain lately, and until when that answer holds. */
  private readonly unknown = new Map<string, number>();

  /**
   * Reads one user or application (and its owner) missing from the last reload: it may have
   * been created since. Misses are remembered for a second, so unknown subjects cannot make
   * every request a query.
   */
  private async lookUp(subject: string): Promise<void> {
    const now = Date.now();
    if ((this.unknown.get(subject) ?? 0) > now) return;
    const app = await this.store
      .selectFrom('applications')
      .select(['client_id', 'account_id', 'owner_user_id'])
      .where('client_id', '=', subject)
      .executeTakeFirst();
    if (app) {
      this.apps.set(app.client_id, { accountId: app.account_id, ownerUserId: app.owner_user_id });
    }
    const user = await this.store
      .selectFrom('users')
      .select(['id', 'account_id', 'role', 'disabled_at'])
      .where('id', '=', app ? app.owner_user_id : subject)
      .executeTakeFirst();
    if (user) {
      this.users.set(user.id, {
        accountId: user.account_id,
        role: user.role,
        disabled: user.disabled_at !== null,
      });
    }
    if (!app && !user) {
      if (this.unknown.size > 10_000) this.unknown.clear();
      this.unknown.set(subject, now + 1000);
    }
  }

  private knows(subject: string): boolean {
    const app = this.apps.get(subject);
    return app ? this.users.has(app.ownerUserId) : this.users.has(subject);
  }

  /** The active user a token subject stands for: a user id, or a client id (its owner). */
  private activeUser(subject: string, accountId: string): DirectoryUser | undefined {
    const app = this.apps.get(subject);
    const userId = app ? app.ownerUserId : subject;
    if (app && app.accountId !== accountId) return undefined;
    const user = this.users.get(userId);
    if (!user || user.disabled || user.accountId !== accountId) return undefined;
    return user;
  }

  /**
   * Checks that whoever a verified token acts for may still act, and narrows its permissions
   * to what their role grants now; throws a 401 `ApiError` otherwise. Answers at once when
   * the subject is in memory (every request but the first of a new user or application).
   */
  admit(principal: Principal): Principal | Promise<Principal> {
    const subject = subjectOf(principal);
    if (subject && !this.knows(subject)) {
      return this.lookUp(subject).then(() => this.admitKnown(principal));
    }
    return this.admitKnown(principal);
  }

  /**
   * Whether `admit` would admit the principal without a lookup: its subject is known here and
   * may act. False when unknown (only `admit` can tell) or refused.
   */
  mayAct(principal: Principal): boolean {
    const subject = subjectOf(principal);
    if (!subject || !this.knows(subject)) return false;
    if (principal.kind === 'machine' && !this.apps.has(principal.clientId)) return false;
    return this.activeUser(subject, principal.accountId) !== undefined;
  }

  private admitKnown(principal: Principal): Principal {
    if (principal.kind === 'api_token') {
      if (!principal.createdBy) return principal;
      const creator = this.activeUser(principal.createdBy, principal.accountId);
      if (!creator) throw errors.tokenInvalid('the user who created the token is disabled or gone');
      return { ...principal, creatorPermissions: permissionsForRole(creator.role) };
    }
    if (principal.kind === 'machine' && !this.apps.has(principal.clientId)) {
      throw errors.tokenInvalid('the application no longer exists');
    }
    const subject = principal.kind === 'machine' ? principal.clientId : principal.subject;
    const user = this.activeUser(subject, principal.accountId);
    if (!user) throw errors.tokenInvalid('the user is disabled or no longer exists');
    const allowed = ALLOWED_BY_ROLE[user.role];
    return { ...principal, permissions: principal.permissions.filter((p) => allowed.has(p)) };
  }
}

/** Whom a principal acts for in the directory: a user id, or a client id (its owner). */
function subjectOf(principal: Principal): string | undefined {
  return principal.kind === 'api_token'
    ? principal.createdBy
    : principal.kind === 'machine'
      ? principal.clientId
      : principal.subject;
}
