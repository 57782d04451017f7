import type { FastifyRequest } from 'fastify';
import type { UserRole } from '../store/schema.js';
import { errors } from '../http/errors.js';
import type { Principal } from './token-service.js';

/** What every member of an account may do. */
const VIEWER_PERMISSIONS = [
  'read:current_user',
  'update:current_user',
  'read:account',
  'read:connections',
  'read:maps',
  'read:tilesets',
  'read:imports',
] as const;

/** Editors create and manage their own assets and credentials. */
const EDITOR_PERMISSIONS = [
  ...VIEWER_PERMISSIONS,
  'write:connections',
  'write:maps',
  'write:imports',
  'execute:sql',
  'read:apps',
  'write:apps',
  'read:tokens',
  'write:tokens',
] as const;

/** Admins also manage the account: its users, roles and audit log. */
const ADMIN_PERMISSIONS = [...EDITOR_PERMISSIONS, 'admin:account'] as const;

export type Permission = (typeof ADMIN_PERMISSIONS)[number];

export const ROLES: readonly UserRole[] = ['admin', 'editor', 'viewer'];

/** The `permissions` claim of a token acting for a user of this role. */
export function permissionsForRole(role: UserRole): Permission[] {
  if (role === 'admin') return [...ADMIN_PERMISSIONS];
  if (role === 'editor') return [...EDITOR_PERMISSIONS];
  return [...VIEWER_PERMISSIONS];
}

/** Refuses (403) a caller whose token does not carry the permission. */
export function requirePermission(principal: Principal, permission: Permission): void {
  if (principal.kind === 'api_token') {
    throw errors.forbidden('This API needs an OAuth access token, not an API access token');
  }
  if (!principal.permissions.includes(permission)) {
    throw errors.forbidden(`The token lacks the '${permission}' permission`);
  }
}

/** Refuses (403) API access tokens: the control plane answers OAuth access tokens only. */
export function requireOAuthToken(principal: Principal): void {
  if (principal.kind === 'api_token') {
    throw errors.forbidden('This API needs an OAuth access token, not an API access token');
  }
}

/**
 * Refuses (403) a user or machine token whose role lacks the permission. API access tokens
 * pass: they carry no permissions, and their grants decide what they reach.
 */
export function requireRolePermission(principal: Principal, permission: Permission): void {
  if (principal.kind === 'api_token') {
    // Its grants decide, within what its creator's role allows now.
    if (principal.creatorPermissions && !principal.creatorPermissions.includes(permission)) {
      throw errors.forbidden(`The token's creator no longer has the '${permission}' permission`);
    }
    return;
  }
  if (!principal.permissions.includes(permission)) {
    throw errors.forbidden(`The token lacks the '${permission}' permission`);
  }
}

/**
 * A route's `onRequest` hook applying `requireRolePermission`: it runs after the bearer token
 * is verified and before the body is read or validated, so a refused caller costs no work.
 */
export function rolePermissionGuard(permission: Permission) {
  // Only `principal` is read: a full `FastifyRequest` here would pin the route's own request
  // type (its params) to Fastify's default and break the typing of its handler.
  return async (request: Pick<FastifyRequest, 'principal'>): Promise<void> => {
    if (!request.principal) throw errors.tokenMissing();
    requireRolePermission(request.principal, permission);
  };
}
