import { pino, type Logger } from 'pino';

interface SerializableRequest {
  method?: string;
  url?: string;
}

/**
 * The process logger. Query strings carry user SQL and may carry tokens, so requests are
 * logged by path only; credentials are redacted wherever they appear.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'client_secret',
        'clientSecret',
        'access_token',
        'password',
      ],
      censor: '[redacted]',
    },
    serializers: {
      err: pino.stdSerializers.err,
      req: (request: SerializableRequest) => ({
        method: request.method,
        url: (request.url ?? '').split('?')[0],
      }),
    },
  });
}
