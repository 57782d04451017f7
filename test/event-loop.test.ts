import { describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';

const { baseUrl, clientId, clientSecret } = sharedServer();

describe('embedded warehouse off the event loop', () => {
  it('answers /health while a slow query runs', async () => {
    const token = await fetchToken(baseUrl, clientId, clientSecret);
    let slowFinished = false;
    const slow = fetch(`${baseUrl}/v3/sql/carto_dw/query?q=SELECT+pg_sleep(3)+AS+slept`, {
      headers: { Authorization: `Bearer ${token}` },
    }).then(async (response) => {
      slowFinished = true;
      return response.status;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    const healthChecks: boolean[] = [];
    for (let i = 0; i < 5; i += 1) {
      const response = await fetch(`${baseUrl}/health`);
      expect(response.status).toBe(200);
      healthChecks.push(slowFinished);
    }
    expect(healthChecks).toEqual([false, false, false, false, false]);
    expect(await slow).toBe(200);
  });
});
