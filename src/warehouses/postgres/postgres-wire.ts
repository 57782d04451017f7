/**
 * The two PostgreSQL protocol exchanges that happen outside a session, on a socket of their
 * own: a CancelRequest, and the SSLRequest that asks whether the server speaks TLS.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
 */

import { connect, type Socket } from 'node:net';

/** Where a server listens: a host name or address, or a unix socket directory. */
export interface ServerAddress {
  host: string;
  port: number;
}

const CANCEL_REQUEST_CODE = 80877102;
const SSL_REQUEST_CODE = 80877103;

function openSocket(address: ServerAddress): Socket {
  // libpq's convention: a host starting with '/' is the directory of the server's socket.
  return address.host.startsWith('/')
    ? connect(`${address.host}/.s.PGSQL.${address.port}`)
    : connect(address.port, address.host);
}

function startupPacket(...words: number[]): Buffer {
  const packet = Buffer.alloc(4 + words.length * 4);
  packet.writeInt32BE(packet.length, 0);
  words.forEach((word, index) => packet.writeInt32BE(word, 4 + index * 4));
  return packet;
}

/**
 * Asks the server to cancel whatever the backend `processId` is running. The server answers
 * nothing and the request needs no login, so it works when every pooled session is busy.
 * Resolves once sent; rejects when the server cannot be reached within `timeoutMs`.
 */
export function sendCancelRequest(
  address: ServerAddress,
  processId: number,
  secretKey: number,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = openSocket(address);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('cancel request timed out')));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.end(startupPacket(CANCEL_REQUEST_CODE, processId, secretKey), () => resolve());
    });
  });
}

/**
 * Sends an SSLRequest and reads the one-byte answer: 'S' when the server accepts TLS, 'N'
 * when it does not. This is how libpq decides `sslmode=prefer`, which pg cannot do itself.
 */
export function serverAcceptsTls(address: ServerAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = openSocket(address);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('SSL request timed out')));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(startupPacket(SSL_REQUEST_CODE)));
    socket.once('data', (answer: Buffer) => {
      socket.destroy();
      resolve(answer[0] === 'S'.charCodeAt(0));
    });
    socket.once('close', () => reject(new Error('the server closed the connection')));
  });
}
