import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rolePermissionGuard } from '../auth/permissions.js';
import type { Principal } from '../auth/token-service.js';
import { errors } from '../http/errors.js';
import { principalOf } from '../http/principal.js';
import { optionalString, readParameters, readQueryParameters } from '../http/request-params.js';
import type { SqlJob, SqlJobStatus } from './job-queue.js';
import { toJobResponse } from './job-response.js';
import type { JobListOptions, NewJobInput, SqlJobService } from './sql-job-service.js';
import {
  CANCEL_SQL_JOB_SCHEMA,
  CREATE_SQL_JOB_SCHEMA,
  GET_SQL_JOB_SCHEMA,
  LIST_SQL_JOBS_SCHEMA,
} from './sql-job-schemas.js';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;
const STATUSES: readonly SqlJobStatus[] = ['pending', 'running', 'success', 'failure', 'cancelled'];

type JobRequest = FastifyRequest<{ Params: { connection: string; jobId: string } }>;

/** The body of `POST .../job`: `query` (or `q`, as in `/query`) and optional bind values. */
function readNewJob(request: FastifyRequest): NewJobInput {
  const params = readParameters(request);
  const query = optionalString(params, 'query') ?? optionalString(params, 'q');
  if (query === undefined || query.trim() === '') throw errors.missingParameter('query');
  return { query, queryParameters: readQueryParameters(params) };
}

function readPositiveInteger(params: Record<string, unknown>, name: string, max: number) {
  const text = optionalString(params, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw errors.invalidParameter(name, `expected an integer from 1 to ${max}`);
  }
  return value;
}

function readListOptions(request: FastifyRequest): JobListOptions {
  const params = readParameters(request);
  const status = optionalString(params, 'status');
  if (status !== undefined && !STATUSES.includes(status as SqlJobStatus)) {
    throw errors.invalidParameter('status', `expected one of ${STATUSES.join(', ')}`);
  }
  return {
    page: readPositiveInteger(params, 'page', Number.MAX_SAFE_INTEGER) ?? 1,
    pageSize: readPositiveInteger(params, 'pageSize', MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE,
    status: status as SqlJobStatus | undefined,
  };
}

/**
 * A job's query text and results belong to whoever created it: others of the account see it
 * only as admins (API access tokens see only their own; see src/tokens/token-jobs.ts).
 */
function canSeeJob(principal: Principal, job: SqlJob): boolean {
  return job.createdBy === principal.subject || principal.permissions.includes('admin:account');
}

/**
 * SQL API async jobs: create (`POST /v3/sql/{connection}/job`), read and cancel
 * (`GET`/`DELETE /v3/sql/{connection}/job/{jobId}`), and list (`GET /v3/sql/jobs`).
 */
export function registerSqlJobRoutes(app: FastifyInstance, deps: { jobs: SqlJobService }): void {
  const { jobs } = deps;
  // A job changes while it runs, so no answer may be cached.
  const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store');
  // Jobs run any SQL and list its text: only roles with `execute:sql` reach them.
  const canExecute = { onRequest: rolePermissionGuard('execute:sql') };

  app.post(
    '/v3/sql/:connection/job',
    { ...canExecute, schema: CREATE_SQL_JOB_SCHEMA },
    async (request: FastifyRequest<{ Params: { connection: string } }>, reply) => {
      const principal = principalOf(request);
      const input = readNewJob(request);
      const job = await jobs.create(principal, request.params.connection, input);
      request.log.info({ jobId: job.externalId, connectionId: job.connectionId }, 'job created');
      return noStore(reply).send(toJobResponse(job));
    },
  );

  app.get(
    '/v3/sql/:connection/job/:jobId',
    { ...canExecute, schema: GET_SQL_JOB_SCHEMA },
    async (request: JobRequest, reply) => {
      const { connection, jobId } = request.params;
      const principal = principalOf(request);
      const job = await jobs.get(principal.accountId, connection, jobId);
      if (!canSeeJob(principal, job)) throw errors.jobNotFound(jobId);
      return noStore(reply).send(toJobResponse(job));
    },
  );

  app.delete(
    '/v3/sql/:connection/job/:jobId',
    { ...canExecute, schema: CANCEL_SQL_JOB_SCHEMA },
    async (request: JobRequest, reply) => {
      const { connection, jobId } = request.params;
      const principal = principalOf(request);
      const seen = await jobs.get(principal.accountId, connection, jobId);
      if (!canSeeJob(principal, seen)) throw errors.jobNotFound(jobId);
      const job = await jobs.cancel(principal.accountId, connection, jobId);
      return noStore(reply).send(toJobResponse(job));
    },
  );

  app.get(
    '/v3/sql/jobs',
    { ...canExecute, schema: LIST_SQL_JOBS_SCHEMA },
    async (request, reply) => {
      const options = readListOptions(request);
      const principal = principalOf(request);
      const ownOnly = principal.permissions.includes('admin:account')
        ? undefined
        : principal.subject;
      const page = await jobs.list(principal.accountId, options, ownOnly);
      return noStore(reply).send({
        data: page.jobs.map(toJobResponse),
        meta: { page: options.page, pageSize: options.pageSize, total: page.total },
      });
    },
  );
}
