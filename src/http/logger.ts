import { pino, type Logger } from 'pino';

interface SerializableRequest {
  method?: string;
  url?: string;
}

/**
 * Path segments this long are secrets or hold them (an invitation link's secret, an API access
 * token typed into a path by mistake); ids, names and tile coordinates are shorter.
 */
const SECRET_LIKE_SEGMENT = /(?<=\/)[^/]{40,}/g;

/** A request path as logged: no query string, secret-like segments cut to four characters. */
export function loggedPath(url: string | undefined): string {
  return (url ?? '')
    .split('?')[0]!
    .replace(SECRET_LIKE_SEGMENT, (segment) => `${segment.slice(0, 4)}[redacted]`);
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
        url: loggedPath(request.url),
      }),
    },
  });
}
