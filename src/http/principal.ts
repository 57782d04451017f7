import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/token-service.js';
import { errors } from './errors.js';

/** The verified caller of a `/v3` route; the bearer-token hook has already run. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw errors.tokenMissing();
  return request.principal;
}
