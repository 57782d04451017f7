import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WarehouseError } from '../warehouses/driver.js';
import { ApiError, errors } from './errors.js';

/** Turns a warehouse failure into the API error users see, keeping the warehouse's message. */
export function toApiErrorFromWarehouse(error: WarehouseError, timeoutMs: number): ApiError {
  switch (error.kind) {
    case 'syntax':
    case 'undefined_object':
    case 'invalid_input':
      return errors.sqlError(error.message, error);
    case 'permission':
      return errors.sqlPermission(error.message, error);
    case 'timeout':
      return errors.queryTimeout(timeoutMs);
    case 'cancelled':
      return new ApiError(499, 'cancelled', 'The request was cancelled', {}, { cause: error });
    case 'busy':
      return errors.warehouseBusy(5);
    case 'unavailable':
      return errors.warehouseUnavailable(error.message);
    case 'unreachable':
      return errors.warehouseUnreachable(error.message, error);
    case 'auth_failed':
      return errors.warehouseAuthFailed(error.message, error);
    default:
      return new ApiError(
        500,
        'warehouse_error',
        'The warehouse failed to run the query',
        {},
        {
          cause: error,
        },
      );
  }
}

/** The configured limits error messages name. */
export interface ErrorLimits {
  queryTimeoutMs: number;
  maxBodyBytes: number;
}

function classify(error: unknown, request: FastifyRequest, limits: ErrorLimits): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof WarehouseError) return toApiErrorFromWarehouse(error, limits.queryTimeoutMs);
  const fastifyError = error as Partial<FastifyError> & { validation?: unknown };
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.bodyTooLarge(limits.maxBodyBytes);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType(request.headers['content-type'] ?? '');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.malformedBody('the JSON body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errors.malformedBody('Content-Length does not match the body');
    default:
      break;
  }
  if (fastifyError.validation) {
    return errors.badRequest(fastifyError.message ?? 'Invalid request');
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    // A backstop: input nested deeper than any recursive step can follow.
    return errors.badRequest('The input is nested too deeply');
  }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return errors.malformedBody('the body is not valid JSON');
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(status, 'bad_request', fastifyError.message ?? 'Bad request');
  }
  return errors.internal();
}

/** The single place where errors become HTTP responses in CARTO's JSON error shape. */
export function installErrorHandling(app: FastifyInstance, limits: ErrorLimits): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const apiError = classify(error, request, limits);
    if (apiError.status === 500) {
      request.log.error({ err: error }, 'request failed');
    } else if (apiError.status > 500) {
      // Busy, unavailable or timed out: the server is working as designed under load.
      request.log.warn({ code: apiError.code, status: apiError.status }, apiError.message);
    } else if (apiError.status === 499) {
      request.log.info('request cancelled by the client');
    } else {
      request.log.info({ code: apiError.code, status: apiError.status }, apiError.message);
    }
    if (apiError.extra.retryAfterSeconds !== undefined) {
      reply.header('Retry-After', String(apiError.extra.retryAfterSeconds));
    }
    if (apiError.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="graticule"');
    reply.header('Cache-Control', 'no-store');
    return reply
      .code(apiError.status)
      .type('application/json; charset=utf-8')
      .send(apiError.toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    const apiError = errors.routeNotFound(request.method, request.url.split('?')[0] ?? '/');
    return reply.code(404).send(apiError.toBody());
  });
}
