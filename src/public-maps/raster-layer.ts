/**
 * What a saved `raster` layer must hold for CARTO's `fetchMap` to style it. fetchMap colours a
 * raster layer one of three ways (`visConfig.rasterStyleType`): `Rgb` computes each pixel's red,
 * green and blue from bands or band expressions (`visConfig.colorBands`); `ColorRange` scales
 * one band (`visualChannels.colorField`) over `visConfig.colorRange` with
 * `visualChannels.colorScale`; `UniqueValues` maps one band's values to the colours of
 * `visConfig.uniqueValuesColorRange`. It reads these without a guard, and a layer it cannot
 * style makes `@deck.gl/carto`'s fetchMap throw, so they are checked when the map is saved.
 * Band names are not checked against the raster: its connection need not exist yet.
 */
import { Type, type TProperties, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { errors } from '../http/errors.js';
import { assertValid } from './body-errors.js';

export const RASTER_STYLE_TYPES = ['Rgb', 'ColorRange', 'UniqueValues'] as const;
/** The colour bands of an `Rgb` layer; fetchMap draws red, green and blue. */
export const RASTER_COLOR_BANDS = ['red', 'green', 'blue', 'alpha'] as const;
export const RASTER_COLOR_BAND_TYPES = ['none', 'band', 'expression'] as const;
/** `colorScale`s of a `ColorRange` layer that fetchMap turns into colours. */
export const RASTER_COLOR_SCALES = [
  'linear',
  'log',
  'sqrt',
  'quantize',
  'quantile',
  'ordinal',
  'custom',
] as const;
/** `#rrggbb` (or `#rrggbbaa`), as fetchMap parses a colour range's colours. */
const HEX_COLOR_PATTERN = '^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$';

const literals = <T extends string>(values: readonly T[]) =>
  Type.Union(values.map((v) => Type.Literal(v)));
const open = <T extends TProperties>(properties: T) =>
  Type.Object(properties, { additionalProperties: true });
const nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

const Color = Type.String({ pattern: HEX_COLOR_PATTERN });

const ColorRange = open({
  colors: Type.Array(Color, { minItems: 1, maxItems: 256 }),
  colorMap: nullable(
    Type.Array(Type.Tuple([Type.Union([Type.String(), Type.Number()]), Color]), {
      maxItems: 10_000,
    }),
  ),
});

const ColorBand = open({
  band: literals(RASTER_COLOR_BANDS),
  type: literals(RASTER_COLOR_BAND_TYPES),
  value: nullable(Type.String({ maxLength: 10_000 })),
});

const colorField = open({ name: Type.String({ minLength: 1, maxLength: 256 }) });

const styleTypeCheck = TypeCompiler.Compile(
  open({ config: open({ visConfig: open({ rasterStyleType: literals(RASTER_STYLE_TYPES) }) }) }),
);

const styleChecks = {
  Rgb: TypeCompiler.Compile(
    open({
      config: open({
        visConfig: open({
          colorBands: Type.Array(ColorBand, { minItems: 1, maxItems: RASTER_COLOR_BANDS.length }),
        }),
      }),
    }),
  ),
  ColorRange: TypeCompiler.Compile(
    open({
      config: open({ visConfig: open({ colorRange: ColorRange }) }),
      visualChannels: open({ colorField, colorScale: literals(RASTER_COLOR_SCALES) }),
    }),
  ),
  UniqueValues: TypeCompiler.Compile(
    open({
      config: open({ visConfig: open({ uniqueValuesColorRange: ColorRange }) }),
      visualChannels: open({ colorField }),
    }),
  ),
};

interface ColorBandConfig {
  band: string;
  type: (typeof RASTER_COLOR_BAND_TYPES)[number];
  value?: string | null;
}

/** Words an expression treats as values, not as band names. */
const LITERAL_WORDS = new Set(['true', 'false', 'null', 'this', 'undefined']);
/** Numbers (whose exponents look like names), quoted strings, and names. */
const EXPRESSION_TOKEN = new RegExp(
  [
    String.raw`\d*\.?\d+(?:[eE][+-]?\d+)?`,
    String.raw`"(?:[^"\\]|\\.)*"`,
    String.raw`'(?:[^'\\]|\\.)*'`,
    String.raw`([A-Za-z_$][\w$]*)`,
  ].join('|'),
  'g',
);

/** Whether a band expression names a band at all: fetchMap needs one to size its pixels. */
function namesABand(expression: string): boolean {
  for (const [, name] of expression.matchAll(EXPRESSION_TOKEN)) {
    if (name !== undefined && !LITERAL_WORDS.has(name)) return true;
  }
  return false;
}

/**
 * An `Rgb` layer's colour bands: each named once, a `band` or `expression` one with its value,
 * and at least one reading the raster's pixels (fetchMap sizes its pixels from those bands).
 */
function checkColorBands(bands: ColorBandConfig[], path: string): void {
  const seen = new Set<string>();
  let readsPixels = false;
  bands.forEach((band, index) => {
    const name = `${path}[${index}]`;
    if (seen.has(band.band)) {
      throw errors.invalidParameter(`${name}.band`, `'${band.band}' is given twice`);
    }
    seen.add(band.band);
    if (band.type === 'none') return;
    const value = band.value?.trim();
    if (!value) throw errors.missingParameter(`${name}.value`);
    readsPixels ||= band.type === 'band' || namesABand(value);
  });
  if (!readsPixels) {
    throw errors.invalidParameter(path, 'expected a band, or an expression naming one');
  }
}

/**
 * Checks a `raster` layer (at `layers[index]`, already checked as any layer is) for what
 * fetchMap reads to colour it; throws a 400 `ApiError` naming the first bad field.
 */
export function checkRasterLayer(layer: unknown, index: number): void {
  const path = `/keplerMapConfig/config/visState/layers/${index}`;
  assertValid(styleTypeCheck, layer, path);
  const style = layer.config.visConfig.rasterStyleType;
  const styled: unknown = layer;
  if (style === 'ColorRange') return assertValid(styleChecks.ColorRange, styled, path);
  if (style === 'UniqueValues') return assertValid(styleChecks.UniqueValues, styled, path);
  assertValid(styleChecks.Rgb, styled, path);
  const name = `keplerMapConfig.config.visState.layers[${index}].config.visConfig.colorBands`;
  checkColorBands(styled.config.visConfig.colorBands, name);
}
