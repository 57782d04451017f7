import { afterAll, beforeAll, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { createPostgresConnection, ensurePostgresDemoData } from './support/postgres-demo.js';
import { connectAsSuperuser, describeWithPostgres } from './support/postgres.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

interface Attribute {
  attribute: string;
  min?: number;
  max?: number;
  sum?: number;
  categories?: { category: string; frequency: number }[];
}

interface TileJson {
  bounds: [number, number, number, number];
  tilestats: { sampled?: boolean; layers: { count: number; attributes: Attribute[] }[] };
  fraction_dropped_per_zoom: number[];
}

describeWithPostgres('TileJSON statistics of large tables from estimates and a sample', (info) => {
  let server: ServerProcess;
  let token = '';
  const connection = 'pg_sampled';

  beforeAll(async () => {
    await ensurePostgresDemoData(info);
    // Every demo table counts as large here, so its statistics are sampled.
    server = await startServerProcess({
      loadDemoData: false,
      env: { GRATICULE_MAPS_EXACT_STATS_ROWS: '1000', GRATICULE_TILE_MAX_FEATURES: '5000' },
    });
    token = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    await createPostgresConnection(server.baseUrl, token, info, connection);
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function instantiate(params: Record<string, string>) {
    const headers = { Authorization: `Bearer ${token}` };
    const search = new URLSearchParams(params);
    const step1 = (await (
      await fetch(`${server.baseUrl}/v3/maps/${connection}/table?${search}`, { headers })
    ).json()) as { nrows: number; tilejson: { url: string[] } };
    const tilejson = (await (await fetch(step1.tilejson.url[0]!, { headers })).json()) as TileJson;
    return { nrows: step1.nrows, tilejson };
  }

  async function exact() {
    const client = await connectAsSuperuser(info);
    try {
      const { rows } = await client.query(`
        SELECT count(*)::float8 AS n, sum(population)::float8 AS population,
               ST_XMin(ST_Extent(geom)) AS west, ST_XMax(ST_Extent(geom)) AS east,
               count(*) FILTER (WHERE country = 'US')::float8 AS us
        FROM demo.populated_places`);
      return rows[0] as { n: number; population: number; west: number; east: number; us: number };
    } finally {
      await client.end();
    }
  }

  it('answers counts, sums, frequencies and bounds close to the exact figures', async () => {
    const truth = await exact();
    const { nrows, tilejson } = await instantiate({ name: 'demo.populated_places' });
    const layer = tilejson.tilestats.layers[0]!;
    const within = (value: number, expected: number, share: number) =>
      expect(Math.abs(value - expected)).toBeLessThanOrEqual(expected * share);

    expect(tilejson.tilestats.sampled).toBe(true);
    within(nrows, truth.n, 0.02);
    within(layer.count, truth.n, 0.02);
    const population = layer.attributes.find((a) => a.attribute === 'population')!;
    within(population.sum!, truth.population, 0.25);
    const country = layer.attributes.find((a) => a.attribute === 'country')!;
    const us = country.categories!.find((c) => c.category === 'US');
    within(us!.frequency, truth.us, 0.25);
    // PostGIS's estimated extent comes from its statistics: near the true extent.
    expect(Math.abs(tilejson.bounds[0] - truth.west)).toBeLessThan(5);
    expect(Math.abs(tilejson.bounds[2] - truth.east)).toBeLessThan(5);
    // 135k places over a 5,000-feature cap: low zooms drop features, high zooms none.
    expect(tilejson.fraction_dropped_per_zoom[0]).toBeGreaterThan(0.9);
    expect(tilejson.fraction_dropped_per_zoom.at(-1)).toBe(0);
  });

  it('samples large spatial-index tables too', async () => {
    const { nrows, tilejson } = await instantiate({
      name: 'demo.places_h3',
      spatialDataType: 'h3',
      aggregationExp: 'sum(population) AS population',
    });
    const truth = await exact();
    expect(tilejson.tilestats.sampled).toBe(true);
    expect(nrows).toBeGreaterThan(50_000);
    const population = tilejson.tilestats.layers[0]!.attributes[0]!;
    expect(Math.abs(population.sum! - truth.population)).toBeLessThan(truth.population * 0.25);
    expect(tilejson.bounds[2] - tilejson.bounds[0]).toBeGreaterThan(300);
  });

  it('keeps exact statistics when filters narrow the table', async () => {
    const filters = JSON.stringify({ country: { in: { values: ['ES'] } } });
    const { nrows, tilejson } = await instantiate({ name: 'demo.populated_places', filters });
    const client = await connectAsSuperuser(info);
    try {
      const { rows } = await client.query(
        `SELECT count(*)::int AS n FROM demo.populated_places WHERE country = 'ES'`,
      );
      expect(nrows).toBe(rows[0].n);
      expect(tilejson.tilestats.sampled).toBeUndefined();
    } finally {
      await client.end();
    }
  });
});
