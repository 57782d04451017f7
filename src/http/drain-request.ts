import type { IncomingMessage } from 'node:http';

/** How much of an unread request body is discarded before an early answer goes out. */
export interface DrainLimits {
  maxBytes: number;
  maxMs: number;
}

/**
 * Reads and discards what is left of a request body the application did not consume (an
 * answer given before the body arrived, such as 413 or 401). A server that answers and closes
 * while the client is still sending makes the client's TCP stack reset the connection, and the
 * client then loses the answer; draining first lets it read the error. Past the limits the
 * answer goes out anyway and the connection is closed.
 */
export function drainUnreadBody(request: IncomingMessage, limits: DrainLimits): Promise<void> {
  if (request.complete || request.destroyed || request.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    let received = 0;
    const finish = (): void => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', finish);
      request.off('close', finish);
      request.off('error', finish);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limits.maxBytes) finish();
    };
    const timer = setTimeout(finish, limits.maxMs);
    request.on('data', onData);
    request.once('end', finish);
    request.once('close', finish);
    request.once('error', finish);
    request.resume();
  });
}
