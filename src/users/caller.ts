import type { FastifyRequest } from 'fastify';
import { identityErrors } from '../accounts/identity-errors.js';
import { permissionsForRole, requirePermission, type Permission } from '../auth/permissions.js';
import type { Principal } from '../auth/token-service.js';
import { errors } from '../http/errors.js';
import { principalOf } from '../http/principal.js';
import type { UserRole } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { UserStore, type UserRecord } from './user-store.js';

/** Who is acting on the control plane, as the audit log records it. */
export interface Actor {
  accountId: string;
  /** The user acting; null for the operator's command line. */
  userId: string | null;
  /** A token subject, or `cli`. */
  subject: string;
  /** The acting user's role now; absent for the operator's command line. */
  role?: UserRole;
  ip?: string;
}

/** A verified caller and the user it acts for, as that user is now. */
export interface Caller {
  principal: Principal;
  user: UserRecord;
  actor: Actor;
}

/**
 * The user a token acts for: a machine token acts for its application's owner, a user token
 * for its subject. Read on every call, so a deleted, disabled or demoted user loses what the
 * token's claims still say.
 */
export async function resolveCaller(store: Store, principal: Principal): Promise<UserRecord> {
  let userId = principal.subject;
  if (principal.kind === 'machine') {
    const app = await store
      .selectFrom('applications')
      .select('owner_user_id')
      .where('client_id', '=', principal.clientId)
      .where('account_id', '=', principal.accountId)
      .executeTakeFirst();
    if (!app) throw identityErrors.callerUnknown();
    userId = app.owner_user_id;
  }
  const user = await new UserStore(store).find(principal.accountId, userId);
  if (!user) throw identityErrors.callerUnknown();
  if (user.disabledAt !== null) throw identityErrors.callerDisabled();
  return user;
}

/**
 * A route's `onRequest` hook refusing (403) API access tokens and tokens without the
 * permission before the body is read, so a caller who may not use the route learns that, not
 * what is wrong with the body. The handler's `requireCaller` then checks the caller's current
 * role in the store.
 */
export function callerPermissionGuard(permission: Permission) {
  return async (request: Pick<FastifyRequest, 'principal'>): Promise<void> => {
    if (!request.principal) throw errors.tokenMissing();
    requirePermission(request.principal, permission);
  };
}

/**
 * Refuses (403) API access tokens, tokens without the permission, and callers whose current
 * role no longer grants it; answers the caller otherwise.
 */
export async function requireCaller(
  store: Store,
  request: FastifyRequest,
  permission: Permission,
): Promise<Caller> {
  const principal = principalOf(request);
  requirePermission(principal, permission);
  const user = await resolveCaller(store, principal);
  if (!permissionsForRole(user.role).includes(permission)) {
    throw errors.forbidden(`The role '${user.role}' lacks the '${permission}' permission`);
  }
  return {
    principal,
    user,
    actor: {
      accountId: principal.accountId,
      userId: user.id,
      subject: principal.subject,
      role: user.role,
      ip: request.ip,
    },
  };
}
