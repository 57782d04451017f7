import { get } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
let token = '';

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

/** A raw GET that leaves the body as sent, so Content-Encoding can be checked. */
function rawGet(path: string, acceptEncoding?: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
      if (acceptEncoding !== undefined) headers['Accept-Encoding'] = acceptEncoding;
      get(`${baseUrl}${path}`, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      }).on('error', reject);
    },
  );
}

const TILE = '/v3/maps/carto_dw/table/0/0/0?name=demo.countries&formatTiles=mvt';

describe('tile compression', () => {
  it('gzips tiles for clients that accept gzip and says so', async () => {
    const plain = await rawGet(TILE, 'identity');
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const gzipped = await rawGet(TILE, 'gzip');
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(String(gzipped.headers.vary)).toMatch(/accept-encoding/i);
    expect(gunzipSync(gzipped.body).equals(plain.body)).toBe(true);
    expect(gzipped.body.length).toBeLessThan(plain.body.length);
  });

  it('sends identity bytes when no encoding is asked for', async () => {
    const none = await rawGet(TILE);
    expect(none.headers['content-encoding']).toBeUndefined();
    expect(none.headers['content-type']).toBe('application/vnd.mapbox-vector-tile');
    expect(none.body[0]).not.toBe(0x1f);
  });
});
