import { _getRasterTileLayerStyleProps as rasterStyleProps } from '@carto/api-client';
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

/** A map of one raster dataset drawn by one raster layer with the given style. */
const rasterMap = (visConfig: Record<string, unknown>, visualChannels = {}) => ({
  title: 'Relief',
  datasets: [{ id: 'r', type: 'raster', source: 'demo.relief_raster', connectionName: 'carto_dw' }],
  keplerMapConfig: {
    version: 'v1',
    config: {
      mapState: { latitude: 49, longitude: 12, zoom: 4 },
      mapStyle: {},
      visState: {
        layers: [{ id: 'l', type: 'raster', config: { dataId: 'r', visConfig }, visualChannels }],
      },
    },
  },
});

const band = (name: string, type: string, value: string | null) => ({ band: name, type, value });
const LANDCOVER = {
  colors: ['#6EAA5A', '#AABE6E', '#A0825A'],
  colorMap: [
    [1, '#6EAA5A'],
    ['2', '#AABE6E'],
    [3, '#A0825A'],
  ],
};
const field = { colorField: { name: 'landcover', type: 'number' } };

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

  it('takes raster layers styled each way fetchMap colours them', () => {
    const styles: [Record<string, unknown>, Record<string, unknown>][] = [
      [
        {
          rasterStyleType: 'Rgb',
          colorBands: [
            band('red', 'band', 'elevation'),
            band('green', 'expression', 'landcover * 50'),
            band('blue', 'none', null),
          ],
        },
        {},
      ],
      [
        { rasterStyleType: 'ColorRange', colorRange: LANDCOVER },
        { ...field, colorScale: 'quantize' },
      ],
      [{ rasterStyleType: 'UniqueValues', uniqueValuesColorRange: LANDCOVER }, field],
    ];
    for (const [visConfig, channels] of styles) {
      expect(rejectionOf(() => readNewMap(rasterMap(visConfig, channels)))).toBeNull();
    }
  });

  const rgb = (...bands: unknown[]) => ({ rasterStyleType: 'Rgb', colorBands: bands });
  const layerPath = 'keplerMapConfig.config.visState.layers[0]';
  const badRasters: [string, ReturnType<typeof rasterMap>, string][] = [
    [
      'no style',
      rasterMap({}),
      `Missing required parameter '${layerPath}.config.visConfig.rasterStyleType'`,
    ],
    [
      'an unknown style',
      rasterMap({ rasterStyleType: 'Hillshade' }),
      'expected one of Rgb, ColorRange, UniqueValues',
    ],
    ['Rgb without bands', rasterMap(rgb()), 'colorBands'],
    [
      'a colour band twice',
      rasterMap(rgb(band('red', 'band', 'elevation'), band('red', 'band', 'landcover'))),
      "'red' is given twice",
    ],
    [
      'a band without its name',
      rasterMap(rgb(band('red', 'band', ' '))),
      `Missing required parameter '${layerPath}.config.visConfig.colorBands[0].value'`,
    ],
    [
      'bands that read no pixels',
      rasterMap(rgb(band('red', 'expression', '1e3 / 4'), band('green', 'none', null))),
      'expected a band, or an expression naming one',
    ],
    [
      'ColorRange without a colour scale',
      rasterMap({ rasterStyleType: 'ColorRange', colorRange: LANDCOVER }, field),
      `Missing required parameter '${layerPath}.visualChannels.colorScale'`,
    ],
    [
      'ColorRange with a colour that is no hex colour',
      rasterMap(
        { rasterStyleType: 'ColorRange', colorRange: { colors: ['red'] } },
        { ...field, colorScale: 'linear' },
      ),
      `'${layerPath}.config.visConfig.colorRange.colors[0]'`,
    ],
    [
      'UniqueValues without a band',
      rasterMap({ rasterStyleType: 'UniqueValues', uniqueValuesColorRange: LANDCOVER }),
      `Missing required parameter '${layerPath}.visualChannels.colorField'`,
    ],
    [
      'a colour map entry that is no pair',
      rasterMap(
        {
          rasterStyleType: 'UniqueValues',
          uniqueValuesColorRange: { ...LANDCOVER, colorMap: [1] },
        },
        field,
      ),
      `'${layerPath}.config.visConfig.uniqueValuesColorRange.colorMap[0]'`,
    ],
  ];

  it.each(badRasters)('refuses a raster layer with %s', (_name, body, message) => {
    const error = rejectionOf(() => readNewMap(body));
    expect(error?.status).toBe(400);
    expect(error?.message).toContain(message);
  });

  it('pairs raster layers with raster datasets only, and raster datasets take no columns', () => {
    const onTable = rasterMap(rgb(band('red', 'band', 'elevation')));
    onTable.datasets[0]!.type = 'table';
    expect(rejectionOf(() => readNewMap(onTable))?.message).toContain(
      "a raster layer draws a raster dataset, and 'r' is a table dataset",
    );
    const vector = minimalMap();
    vector.datasets[0]!.type = 'raster';
    expect(rejectionOf(() => readNewMap(vector))?.message).toContain(
      "'d' is a raster dataset, which only raster layers draw",
    );
    const withColumns = rasterMap(rgb(band('red', 'band', 'elevation')));
    (withColumns.datasets[0] as Record<string, unknown>).columns = ['elevation'];
    expect(rejectionOf(() => readNewMap(withColumns))?.message).toBe(
      "Invalid parameter 'datasets[0].columns': " +
        'raster datasets take only a source and a connection',
    );
  });

  it("accepts only raster layers whose style fetchMap's own code reads without throwing", () => {
    const stats = { min: 1, max: 5, mean: 2, stddev: 1, sum: 10, sum_squares: 30, count: 5 };
    const rasterMetadata = {
      nodata: 0,
      bands: ['elevation', 'landcover'].map((name) => ({
        name,
        type: 'uint8',
        nodata: '0',
        stats: { ...stats, quantiles: { 3: [2, 3], 4: [2, 3, 4] } },
      })),
    } as unknown as Parameters<typeof rasterStyleProps>[0]['rasterMetadata'];
    // Mostly well-formed styles, so that many are accepted and then read by fetchMap's code.
    const anyOr = <T>(arbitrary: fc.Arbitrary<T>) =>
      fc.option(fc.oneof({ arbitrary, weight: 9 }, { arbitrary: fc.jsonValue(), weight: 1 }), {
        nil: undefined,
        freq: 10,
      });
    const colorRange = anyOr(
      fc.record({
        colors: anyOr(
          fc.array(fc.oneof({ arbitrary: fc.constant('#12AB34'), weight: 9 }, fc.string()), {
            maxLength: 4,
          }),
        ),
        colorMap: anyOr(fc.array(anyOr(fc.tuple(fc.integer(), fc.constant('#12AB34'))))),
      }),
    );
    const names = fc.constantFrom('elevation', 'landcover * 2', '(landcover)', '2', ' ', 'nope');
    const visConfig = fc.record({
      rasterStyleType: anyOr(fc.constantFrom('Rgb', 'ColorRange', 'UniqueValues')),
      colorBands: anyOr(
        fc.array(
          fc.record({
            band: fc.constantFrom('red', 'green', 'blue', 'alpha', 'cyan'),
            type: fc.constantFrom('none', 'band', 'expression', 'other'),
            value: anyOr(names),
          }),
          { maxLength: 5 },
        ),
      ),
      colorRange,
      uniqueValuesColorRange: colorRange,
    });
    const visualChannels = fc.record({
      colorField: anyOr(fc.record({ name: anyOr(names) })),
      colorScale: anyOr(fc.constantFrom('quantile', 'quantize', 'custom', 'identity', 'x')),
    });
    fc.assert(
      fc.property(visConfig, visualChannels, (style, channels) => {
        const body = rasterMap(style as Record<string, unknown>, channels);
        const error = rejectionOf(() => readNewMap(body));
        if (error) {
          expect(error.status).toBe(400);
          return;
        }
        const layer = body.keplerMapConfig.config.visState.layers[0]!;
        expect(() =>
          rasterStyleProps({
            layerConfig: layer.config as never,
            visualChannels: layer.visualChannels as never,
            rasterMetadata,
          }),
        ).not.toThrow();
      }),
      { numRuns: 1000 },
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
