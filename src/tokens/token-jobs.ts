import type { FastifyRequest } from 'fastify';
import { errors } from '../http/errors.js';
import { optionalString, readParameters } from '../http/request-params.js';
import { toJobResponse, type JobResponse } from '../jobs/job-response.js';
import type { SqlJobService } from '../jobs/sql-job-service.js';
import type { SqlJobStatus } from '../store/schema.js';
import type { Store } from '../store/store.js';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;
const STATUSES: readonly SqlJobStatus[] = ['pending', 'running', 'success', 'failure', 'cancelled'];

export interface JobListAnswer {
  data: JobResponse[];
  meta: { page: number; pageSize: number; total: number };
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

/**
 * `GET /v3/sql/jobs` for an API access token: only the jobs that token created (their
 * `created_by` is the token's subject), with the same paging and answer as the SQL API's list.
 */
export async function listJobsCreatedBy(
  request: FastifyRequest,
  deps: { store: Store; jobs: SqlJobService },
  accountId: string,
  createdBy: string,
): Promise<JobListAnswer> {
  const params = readParameters(request);
  const status = optionalString(params, 'status');
  if (status !== undefined && !STATUSES.includes(status as SqlJobStatus)) {
    throw errors.invalidParameter('status', `expected one of ${STATUSES.join(', ')}`);
  }
  const page = readPositiveInteger(params, 'page', Number.MAX_SAFE_INTEGER) ?? 1;
  const pageSize = readPositiveInteger(params, 'pageSize', MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE;

  let matching = deps.store
    .selectFrom('sql_jobs')
    .where('account_id', '=', accountId)
    .where('created_by', '=', createdBy);
  if (status !== undefined) matching = matching.where('status', '=', status as SqlJobStatus);
  const rows = await matching
    .select(['external_id', 'connection_name'])
    .orderBy('seq', 'desc')
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute();
  const { total } = await matching
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .executeTakeFirstOrThrow();
  // A job deleted (expired) between the two reads is left out.
  const jobs = await Promise.all(
    rows.map((row) =>
      deps.jobs.get(accountId, row.connection_name, row.external_id).catch(() => undefined),
    ),
  );
  const data = jobs.filter((job) => job !== undefined).map(toJobResponse);
  return { data, meta: { page, pageSize, total: Number(total) } };
}
