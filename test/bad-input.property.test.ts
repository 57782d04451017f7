import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
let token = '';

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

/** Every answer to bad input is a JSON client error with a string `error`, never a 5xx. */
async function expectClientError(response: Response, label: string) {
  const text = await response.text();
  expect(response.status, `${label} -> ${response.status} ${text.slice(0, 300)}`).toBeLessThan(500);
  if (response.status >= 400) {
    const body = JSON.parse(text) as { error?: unknown };
    expect(typeof body.error, label).toBe('string');
    expect(text, label).not.toMatch(/at .+\.(js|ts):\d+/);
  }
}

const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '"', '""', '"a"."b"."c"."d"', '.', 'a..b', '%', '\u0000', '-1', '1e309'),
);

describe('bad input never breaks the server', () => {
  it('maps endpoints answer JSON client errors for arbitrary parameters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('table', 'query', 'tileset', 'nope'),
        fc.record(
          {
            name: anyText,
            q: anyText,
            columns: anyText,
            tileResolution: anyText,
            spatialDataColumn: anyText,
            queryParameters: anyText,
            formatTiles: anyText,
            format: anyText,
          },
          { requiredKeys: [] },
        ),
        async (type, params) => {
          const query = new URLSearchParams(params as Record<string, string>);
          const response = await fetch(`${baseUrl}/v3/maps/carto_dw/${type}?${query}`, {
            headers: { Authorization: `Bearer ${token}` },
          });
          await expectClientError(response, `${type}?${query}`);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('tile coordinates of any shape answer 4xx or a tile', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, anyText, anyText, async (z, x, y) => {
        const path = [z, x, y].map((part) => encodeURIComponent(part) || '0').join('/');
        const response = await fetch(
          `${baseUrl}/v3/maps/carto_dw/table/${path}?name=demo.countries&formatTiles=mvt`,
          { headers: { Authorization: `Bearer ${token}` } },
        );
        await expectClientError(response, path);
      }),
      { numRuns: 60 },
    );
  });

  it('SQL endpoint answers JSON client errors for arbitrary bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json(), anyText), async (body) => {
        const response = await fetch(`${baseUrl}/v3/sql/carto_dw/query`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body,
        });
        await expectClientError(response, body);
      }),
      { numRuns: 60 },
    );
    const health = await fetch(`${baseUrl}/health`);
    expect(health.status).toBe(200);
  });
});
