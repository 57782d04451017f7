import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/token-service.js';
import { errors } from './errors.js';

/** The verified caller of a `/v3` route; the bearer-token hook has already run. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw errors.tokenMissing();
  return request.principal;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of an `Authorization: Bearer <token>` header; undefined when absent or not that. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}
