import type { JobError, JobMetadata, SqlJob, SqlJobStatus } from './job-queue.js';

/** A job as the SQL API answers it; optional fields are left out until they are known. */
export interface JobResponse {
  externalId: string;
  status: SqlJobStatus;
  query: string;
  queryParameters?: unknown[];
  connectionId: string;
  connectionName: string;
  connectionProvider: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: JobError;
  jobMetadata: JobMetadata;
}

/** Shapes a job for the API; lease and owner details stay internal. */
export function toJobResponse(job: SqlJob): JobResponse {
  const response: JobResponse = {
    externalId: job.externalId,
    status: job.status,
    query: job.query,
    connectionId: job.connectionId,
    connectionName: job.connectionName,
    connectionProvider: job.connectionProvider,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    jobMetadata: job.metadata ?? {},
  };
  if (job.queryParameters) response.queryParameters = job.queryParameters;
  if (job.startedAt) response.startedAt = job.startedAt;
  if (job.finishedAt) response.finishedAt = job.finishedAt;
  if (job.error) response.error = job.error;
  return response;
}
