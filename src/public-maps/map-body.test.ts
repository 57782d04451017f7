import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/errors.js';
import { readMapChanges, readNewMap } from './map-body.js';

const minimalMap = () => ({
  title: 'A map',
  datasets: [{ id: 'd', type: 'table', source: 'demo.countries', connectionName: 'carto_dw' }],
  keplerMapConfig: {
    version: 'v1',
    config: {
      mapState: { latitude: 0, longitude: 0, zoom: 1 },
      mapStyle: {},
      visState: {
        layers: [
          { id: 'l', type: 'mvt', config: { dataId: 'd', visConfig: {} }, visualChannels: {} },
        ],
      },
    },
  },
});

/** Runs a reader; answers the ApiError it throws, or null when it accepted the body. */
function rejectionOf(read: () => unknown): ApiError | null {
  try {
    read();
    return null;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
}

describe('saved-map bodies', () => {
  it('fills in the defaults of a minimal map and keeps unknown Kepler fields', () => {
    const body = minimalMap();
    (body.keplerMapConfig.config as Record<string, unknown>).legendSettings = { open: true };
    const map = readNewMap(body);
    expect(map).toMatchObject({ title: 'A map', description: '', privacy: 'private' });
    expect(map.keplerMapConfig.config).toHaveProperty('legendSettings', { open: true });
  });

  it('names the first bad field the way the API names parameters', () => {
    const body = minimalMap();
    (body.datasets[0] as Record<string, unknown>).columns = ['name', 7];
    expect(rejectionOf(() => readNewMap(body))?.message).toBe(
      "Invalid parameter 'datasets[0].columns[1]': expected string",
    );
  });

  it('answers any JSON value with a map or a 4xx ApiError, never another exception', () => {
    const anyBody = fc.oneof(
      fc.jsonValue(),
      fc.record({
        title: fc.jsonValue(),
        datasets: fc.array(fc.dictionary(fc.string(), fc.jsonValue())),
        keplerMapConfig: fc.jsonValue(),
      }),
    );
    fc.assert(
      fc.property(anyBody, (body) => {
        for (const read of [() => readNewMap(body), () => readMapChanges(body)]) {
          const error = rejectionOf(read);
          if (error) expect(error.status).toBe(400);
        }
      }),
      { numRuns: 500 },
    );
  });
});
