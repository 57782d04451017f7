import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { generateRequestId } from './request-id.js';
import { loggedPath } from './logger.js';

/**
 * Answers a request at once from what this node already holds, or declines (false) having
 * written nothing, and the request goes through the full HTTP application as usual. A fast
 * path must reach exactly the answer the application would give; it exists because a cached
 * tile is mostly framework overhead (hooks, validation, a child logger), not work.
 */
export type FastPath = (request: IncomingMessage, respond: Responder) => boolean;

/** What a fast path answers with; the registry adds what every API answer carries. */
export interface FastAnswer {
  status: number;
  /** Names and values in turn, lower-case names (Node's raw header list). */
  headers: string[];
  body?: Buffer;
}

export type Responder = (answer: FastAnswer) => true;

/** The response headers the application adds to every answer (CORS, request id). */
export interface FastPathOptions {
  /** `*` lets every origin read answers; a list needs the CORS plugin's per-origin work. */
  corsOrigins: string;
  exposedHeaders: readonly string[];
  logger: Logger;
  /** Counts each answer a fast path gives, by its route pattern. */
  observe?: (method: string, route: string, status: number, seconds: number) => void;
}

/**
 * The fast paths of one server. `handle` runs before the HTTP application sees a request;
 * `disable` turns them off (while the server closes, every request must meet the application,
 * which answers 503).
 */
export class FastPaths {
  private readonly paths: { name: string; route: string; path: FastPath }[] = [];
  private enabled: boolean;
  private readonly exposeHeaders: string;
  private readonly logsRequests: boolean;

  constructor(private readonly options: FastPathOptions) {
    // Per-origin CORS decisions stay with the CORS plugin: with a list, no fast path runs.
    this.enabled = options.corsOrigins.trim() === '*';
    this.exposeHeaders = options.exposedHeaders.join(', ');
    this.logsRequests = options.logger.isLevelEnabled('info');
  }

  /**
   * Adds a fast path; `name` tells in request logs which one answered, `route` is the pattern
   * of the application route it stands in for (the label of its answers in the metrics).
   */
  add(name: string, route: string, path: FastPath): void {
    this.paths.push({ name, route, path });
  }

  disable(): void {
    this.enabled = false;
  }

  /** True when a fast path answered; the caller then leaves the request alone. */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    if (!this.enabled || this.paths.length === 0 || request.method !== 'GET') return false;
    const startedAt = performance.now();
    for (const { name, route, path } of this.paths) {
      const respond: Responder = (answer) => {
        this.write(request, response, answer, name, startedAt);
        const seconds = (performance.now() - startedAt) / 1000;
        this.options.observe?.('GET', route, answer.status, seconds);
        return true;
      };
      try {
        if (path(request, respond)) return true;
      } catch {
        // Anything unexpected is the application's to answer, with its error handling.
        if (response.headersSent) return true;
      }
    }
    return false;
  }

  private write(
    request: IncomingMessage,
    response: ServerResponse,
    answer: FastAnswer,
    name: string,
    startedAt: number,
  ): void {
    const id = generateRequestId(request);
    const headers = answer.headers;
    headers.push(
      'access-control-allow-origin',
      '*',
      'access-control-expose-headers',
      this.exposeHeaders,
      'x-request-id',
      id,
    );
    if (answer.body) headers.push('content-length', String(answer.body.length));
    response.writeHead(answer.status, headers);
    response.end(answer.body);
    if (this.logsRequests) {
      this.options.logger.info(
        {
          reqId: id,
          req: { method: request.method, url: loggedPath(request.url) },
          res: { statusCode: answer.status },
          responseTime: performance.now() - startedAt,
          fastPath: name,
        },
        'request completed',
      );
    }
  }
}
