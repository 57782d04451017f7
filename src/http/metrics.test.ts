import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.js';

describe('Metrics', () => {
  it('counts answers by route pattern and status, and tile cache hits and misses', async () => {
    const metrics = new Metrics();
    metrics.observeRequest('GET', '/v3/maps/:connection/:type/:z/:x/:y', 200, 0.0004);
    metrics.observeRequest('GET', '/v3/maps/:connection/:type/:z/:x/:y', 200, 0.02);
    metrics.observeRequest('POST', 'unmatched', 404, 0.001);
    metrics.observeTile(true);
    metrics.observeTile(false);
    metrics.observeTile(true);

    const text = await metrics.text();
    const route = 'route="/v3/maps/:connection/:type/:z/:x/:y"';
    expect(text).toContain(`graticule_http_requests_total{method="GET",${route},status="200"} 2`);
    expect(text).toContain(
      'graticule_http_requests_total{method="POST",route="unmatched",status="404"} 1',
    );
    expect(text).toContain(
      `graticule_http_request_duration_seconds_bucket{le="0.0005",method="GET",${route}} 1`,
    );
    expect(text).toContain(
      `graticule_http_request_duration_seconds_count{method="GET",${route}} 2`,
    );
    expect(text).toContain('graticule_tile_cache_requests_total{result="hit"} 2');
    expect(text).toContain('graticule_tile_cache_requests_total{result="miss"} 1');
    expect(text).toMatch(/^graticule_process_cpu_seconds_total \d/m);
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });

  it('keeps the counts of each server apart in one process', async () => {
    const first = new Metrics();
    const second = new Metrics();
    first.observeTile(true);
    expect(await second.text()).not.toContain('graticule_tile_cache_requests_total{result="hit"}');
    expect(await first.text()).toContain('graticule_tile_cache_requests_total{result="hit"} 1');
  });
});
