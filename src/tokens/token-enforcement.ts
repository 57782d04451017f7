/**
 * Enforcement of API access tokens on every `/v3` route, in one place: a `preHandler` hook
 * (bodies are parsed by then) that lets an API access token reach only the data plane, only
 * the APIs it allows, only from its referers, and only the sources its grants cover.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/token-service.js';
import { errors } from '../http/errors.js';
import type { SqlJobService } from '../jobs/sql-job-service.js';
import type { Store } from '../store/store.js';
import type { ApiName, ApiTokenRecord } from './api-token-record.js';
import type { ApiTokenService } from './api-token-service.js';
import { assertTokenSafeExpression } from './expression-guard.js';
import { describeSource, grantCovers, parseGrantSource } from './grant-source.js';
import { isRefererAllowed } from './referers.js';
import { requestedAccess, type RequestedAccess } from './requested-access.js';
import { listJobsCreatedBy } from './token-jobs.js';

/** What enforcement reads: token records, and the job service and store for job routes. */
export interface TokenEnforcementContext {
  tokens?: ApiTokenService;
  jobs?: SqlJobService;
  store?: Store;
}

type SourceAccess = Extract<RequestedAccess, { kind: 'source' }>;

function assertApiAllowed(record: ApiTokenRecord, apis: readonly ApiName[]): void {
  if (apis.some((api) => record.allowedApis.includes(api))) return;
  const names = apis.map((api) => `'${api}'`).join(' or ');
  throw errors.forbidden(`The token does not allow the ${names} API`);
}

function assertRefererAllowed(record: ApiTokenRecord, request: FastifyRequest): void {
  const { origin, referer } = request.headers;
  if (isRefererAllowed(record.referers, { origin, referer })) return;
  throw errors.forbidden(
    origin === undefined && referer === undefined
      ? 'The token only works from its referers; the request has no Origin or Referer'
      : "The token does not allow this request's Origin or Referer",
  );
}

function assertConnectionGranted(record: ApiTokenRecord, connection: string): void {
  if (record.grants.some((grant) => grant.connection_name === connection)) return;
  throw errors.forbidden(`The token has no grant for connection '${connection}'`);
}

function assertSourceGranted(record: ApiTokenRecord, access: SourceAccess): void {
  for (const source of [access.source, ...(access.alsoReads ?? [])]) {
    const covered = record.grants.some(
      (grant, index) =>
        grant.connection_name === access.connection &&
        grantCovers(parseGrantSource(grant.source, `grants[${index}].source`), source),
    );
    if (covered) continue;
    throw errors.forbidden(
      `The token has no grant for ${describeSource(source)} ` +
        `on connection '${access.connection}'`,
    );
  }
}

/** The token's record; a token revoked since it was verified is a 401. */
async function recordOf(principal: Principal, ctx: TokenEnforcementContext) {
  const record = principal.apiTokenId ? await ctx.tokens?.lookup(principal.apiTokenId) : undefined;
  if (!record) throw errors.tokenInvalid('the token was revoked or does not exist');
  return record;
}

/**
 * Checks a request made with an API access token; requests with other tokens (or none) pass
 * untouched. Throws a 403 `ApiError` for what the token does not allow. Answers the SQL job
 * list itself (only the token's own jobs); `/v3/maps/public/{id}` is answered as to a caller
 * without a token, so public maps work and private ones stay private.
 */
export async function enforceApiTokenAccess(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: TokenEnforcementContext,
): Promise<FastifyReply | undefined> {
  const principal = request.principal;
  if (principal?.kind !== 'api_token') return undefined;
  const access = requestedAccess(request);
  if (access.kind === 'public_map') {
    request.principal = null;
    return undefined;
  }
  if (access.kind === 'control_plane') {
    throw errors.forbidden('This API needs an OAuth access token, not an API access token');
  }

  const record = await recordOf(principal, ctx);
  assertApiAllowed(record, access.kind === 'source' ? access.apis : ['sql']);
  assertRefererAllowed(record, request);
  if (access.kind === 'source') {
    assertSourceGranted(record, access);
    for (const expression of access.expressions) {
      assertTokenSafeExpression(expression.text, expression.parameter);
    }
    return undefined;
  }
  if (!ctx.jobs || !ctx.store) {
    throw errors.forbidden('This API needs an OAuth access token, not an API access token');
  }
  if (access.kind === 'job') {
    assertConnectionGranted(record, access.connection);
    const job = await ctx.jobs.get(principal.accountId, access.connection, access.jobId);
    // Another token's (or user's) job is not found, as another account's is.
    if (job.createdBy !== principal.subject) throw errors.jobNotFound(access.jobId);
    return undefined;
  }
  const page = await listJobsCreatedBy(
    request,
    { store: ctx.store, jobs: ctx.jobs },
    principal.accountId,
    principal.subject,
  );
  return reply.header('Cache-Control', 'no-store').send(page);
}
