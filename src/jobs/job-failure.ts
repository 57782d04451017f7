import { toApiErrorFromWarehouse } from '../http/error-handler.js';
import { ApiError, errors } from '../http/errors.js';
import { WarehouseError } from '../warehouses/driver.js';
import type { JobError } from './job-queue.js';

/** The error recorded on a job whose server stopped while it ran. */
export function interruptedJobError(): JobError {
  const error = errors.jobInterrupted();
  return { message: error.message, code: error.code };
}

/**
 * What a job's `error` field says about a failed run: the message and code the SQL API would
 * answer for the same failure. Only messages made for users are kept (warehouse messages name
 * no credentials); anything unexpected becomes the generic internal error, and the caller
 * logs the details.
 */
export function describeJobFailure(error: unknown, timeoutMs: number): JobError {
  const apiError =
    error instanceof WarehouseError
      ? toApiErrorFromWarehouse(error, timeoutMs)
      : error instanceof ApiError
        ? error
        : errors.internal();
  return { message: apiError.message, code: apiError.code };
}

/** True when the failure is one users caused or can act on, rather than a server fault. */
export function isExpectedFailure(error: unknown): boolean {
  return error instanceof WarehouseError || error instanceof ApiError;
}
