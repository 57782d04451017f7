import type { FastifyInstance } from 'fastify';
import { registerApplicationRoutes } from '../apps/application-routes.js';
import { registerAuditRoutes } from '../audit/audit-routes.js';
import type { Store } from '../store/store.js';
import { registerUserRoutes } from '../users/user-routes.js';

/** The identity control plane: applications, the caller, the account's users and audit log. */
export function registerAccountRoutes(app: FastifyInstance, store: Store): void {
  registerApplicationRoutes(app, store);
  registerUserRoutes(app, store);
  registerAuditRoutes(app, store);
}
