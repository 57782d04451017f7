/**
 * Route schemas of the SQL API's async jobs (`/v3/sql/{connection}/job`, `/v3/sql/jobs`): their
 * documentation in the OpenAPI document. Bodies and query strings are read by
 * sql-job-routes.ts; only path parameters are validated.
 */
import { Type } from '@sinclair/typebox';
import {
  ClientName,
  QueryParametersArray,
  connectionPathParams,
  literals,
} from '../sql/sql-schemas.js';

const TAGS = ['SQL'];

/** A job's status; tileset jobs share it. */
export const JobStatus = literals(['pending', 'running', 'success', 'failure', 'cancelled'], {
  description: 'pending → running → success, failure or cancelled',
});

const JobId = Type.String({
  minLength: 1,
  maxLength: 128,
  description: "The job's id (`externalId`)",
  examples: ['{{jobId}}'],
});

const Timestamp = (description: string) => Type.String({ format: 'date-time', description });

const SqlJob = Type.Object(
  {
    externalId: Type.String({
      description: "The job's id",
      examples: ['job_bb27f3fdb68058d4e41d2a01f383d82f'],
    }),
    status: JobStatus,
    query: Type.String({ description: 'The statement, as sent' }),
    queryParameters: Type.Optional(
      Type.Array(Type.Unknown(), { description: 'The bind values, when there were any' }),
    ),
    connectionId: Type.String({ description: "The connection's id" }),
    connectionName: Type.String({ description: "The connection's name" }),
    connectionProvider: Type.String({
      description: "The connection's warehouse (`postgres`, `redshift`)",
    }),
    createdAt: Timestamp('When the job was created'),
    updatedAt: Timestamp('When the job last changed'),
    startedAt: Type.Optional(Timestamp('When it started running')),
    finishedAt: Type.Optional(Timestamp('When it ended')),
    error: Type.Optional(
      Type.Object(
        {
          message: Type.String({ description: 'What the SQL API would have answered' }),
          code: Type.String({ description: 'The error code', examples: ['sql_error'] }),
        },
        { additionalProperties: false, description: 'Why the job failed' },
      ),
    ),
    jobMetadata: Type.Object(
      {
        rowCount: Type.Optional(
          Type.Integer({ description: 'Rows the statement returned (discarded)' }),
        ),
        durationMs: Type.Optional(Type.Integer({ description: 'How long it ran' })),
      },
      { additionalProperties: false, description: 'What is known about the run; `{}` before' },
    ),
  },
  { additionalProperties: false, description: 'An async SQL job' },
);

const NewJob = Type.Object(
  {
    query: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'One SQL statement (required, here or as `q`); its rows are discarded, so jobs suit ' +
          'statements that write (`CREATE TABLE ... AS`, `INSERT`, `UPDATE`). The example ' +
          'sleeps a second, so it can be read while it runs and cancelled',
        examples: ['SELECT pg_sleep(1)'],
      }),
    ),
    q: Type.Optional(Type.String({ description: 'The statement, when `query` is absent' })),
    queryParameters: Type.Optional(QueryParametersArray),
    client: Type.Optional(ClientName),
  },
  { description: 'The statement to run in the background' },
);

const jobParams = connectionPathParams({ jobId: JobId });

export const CREATE_SQL_JOB_SCHEMA = {
  tags: TAGS,
  operationId: 'createSqlJob',
  summary: 'Create an async SQL job',
  description:
    'Queues one statement to run in the background, beyond the time limit of `/query`, and ' +
    'answers the pending job at once; poll it with its `externalId`. Finished jobs are kept ' +
    'for 30 days.',
  params: connectionPathParams(),
  body: NewJob,
  response: { 200: { ...SqlJob, description: 'The job, usually still pending' } },
  'x-save': { jobId: 'externalId' },
};

export const GET_SQL_JOB_SCHEMA = {
  tags: TAGS,
  operationId: 'getSqlJob',
  summary: 'Read an async SQL job',
  description:
    'Answers the job: its status, and once it has ended its error or metadata. A job is ' +
    "visible to its creator and the account's admins; to others it does not exist (404).",
  params: jobParams,
  response: { 200: { ...SqlJob, description: 'The job' } },
};

export const CANCEL_SQL_JOB_SCHEMA = {
  tags: TAGS,
  operationId: 'cancelSqlJob',
  summary: 'Cancel an async SQL job',
  description:
    'Cancels a pending or running job and answers it, cancelled; 400 when it has already ' +
    'ended. The embedded warehouse cannot interrupt a statement: a running one finishes on ' +
    'its own, its outcome discarded.',
  params: jobParams,
  response: { 200: { ...SqlJob, description: 'The job, cancelled' } },
  // Right after the creation, while the example's statement still runs.
  'x-order': 1,
};

export const LIST_SQL_JOBS_SCHEMA = {
  tags: TAGS,
  operationId: 'listSqlJobs',
  summary: 'List async SQL jobs',
  description:
    "A page of the caller's jobs, newest first, on every connection; admins see every job " +
    'of the account.',
  querystring: Type.Object({
    page: Type.Optional(
      Type.Integer({ minimum: 1, description: 'The page, from 1', examples: [1] }),
    ),
    pageSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description: 'Jobs per page, up to 100 (default 50)',
        examples: [10],
      }),
    ),
    status: Type.Optional(JobStatus),
  }),
  response: {
    200: Type.Object(
      {
        data: Type.Array(SqlJob),
        meta: Type.Object(
          {
            page: Type.Integer({ minimum: 1 }),
            pageSize: Type.Integer({ minimum: 1 }),
            total: Type.Integer({ minimum: 0, description: 'Jobs in every page' }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false, description: 'A page of jobs' },
    ),
  },
};
