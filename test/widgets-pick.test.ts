import { vectorTableSource } from '@carto/api-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { decodeMvt, tileUrl } from './support/tiles.js';
import { sqlRows } from './support/widget-targets.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
let accessToken = '';

beforeAll(async () => {
  accessToken = await fetchToken(baseUrl, clientId, clientSecret);
});

/** Madrid and its surroundings. */
const TILE = { z: 8, x: 125, y: 96 };

async function tileFeatures() {
  const source = await vectorTableSource({
    apiBaseUrl: baseUrl,
    accessToken,
    connectionName: 'carto_dw',
    tableName: 'demo.populated_places',
    columns: ['name', 'population'],
  });
  const template = source.tiles[0]!.replace('formatTiles=binary', 'formatTiles=mvt');
  const response = await fetch(tileUrl(template, TILE.z, TILE.x, TILE.y), {
    headers: { Authorization: `Bearer ${accessToken}` },
  });
  expect(response.status).toBe(200);
  const { features } = decodeMvt(await response.arrayBuffer(), TILE.z, TILE.x, TILE.y);
  return { source, features };
}

describe('feature ids and pick', () => {
  it('gives each tile feature the hash of its geometry as _carto_feature_id', async () => {
    const { features } = await tileFeatures();
    const madrid = features.find((f) => f.properties.name === 'Madrid')!;
    const rows = await sqlRows<{ id: string }>(
      baseUrl,
      accessToken,
      'carto_dw',
      'SELECT md5(ST_AsBinary(geom)) AS id FROM demo.populated_places ' +
        "WHERE name = 'Madrid' AND country = 'ES'",
    );
    expect(rows.map((r) => r.id)).toContain(madrid.properties._carto_feature_id);
  });

  it('picks the features of ids taken from a tile, in the order asked', async () => {
    const { source, features } = await tileFeatures();
    const chosen = [...features]
      .sort((a, b) => Number(b.properties.population) - Number(a.properties.population))
      .slice(0, 3);
    const ids = chosen.map((f) => String(f.properties._carto_feature_id)).reverse();
    const picked = await source.widgetSource.getFeatures({
      featureIds: ids,
      columns: ['name', 'population', '_carto_feature_id'],
      dataType: 'points',
      z: TILE.z,
    });
    expect(picked.rows.map((r) => r._carto_feature_id)).toEqual(ids);
    expect(picked.rows.map((r) => r.name)).toEqual(
      [...chosen].reverse().map((f) => f.properties.name),
    );
    const counted = await source.widgetSource.getFormula({
      operation: 'count',
      featureIds: ids,
      geometryType: 'points',
    });
    expect(counted.value).toBe(3);
  });

  it('answers 400 for ids that are not feature ids', async () => {
    const { source } = await tileFeatures();
    await expect(
      source.widgetSource.getFeatures({
        featureIds: ["x' OR 1=1 --"],
        columns: ['name'],
        dataType: 'points',
      }),
    ).rejects.toThrow(/featureIds/);
  });
});
