/* global deck, window */
// Colours the map preview's rasters and boundaries by one number, and describes what a hover
// points at. A module the page runs after deck.gl's bundles and before preview.js, which takes
// its functions from `window.graticulePreview` (see preview-request.js).

/** The CARTOColors palette of the ramp, and how many steps it has. */
const RAMP_PALETTE = 'Sunset';
const RAMP_STEPS = 7;
/** Raster pixels without data are not drawn. */
const TRANSPARENT = [0, 0, 0, 0];
/** Boundaries without a value (no data row, or NULL) stay visible, in grey. */
const NO_VALUE_FILL = [204, 204, 204, 255];

/** The legend's numbers. */
const numberFormat = new Intl.NumberFormat('en', { maximumSignificantDigits: 4 });

/** A band's or column's value as a number; BigInt bands (int64, uint64) become numbers. */
function toNumber(value) {
  if (typeof value === 'bigint') return Number(value);
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A property's value for a hover: numbers in full, or to six significant digits. */
function formatValue(value) {
  const number = toNumber(value);
  if (number !== null) return String(Number.isInteger(number) ? number : +number.toPrecision(6));
  if (typeof value === 'number' || value === undefined || value === null) return 'no data';
  return String(value);
}

/**
 * A colour ramp of `RAMP_STEPS` equal steps over `min..max` (deck.gl's `colorBins` with a
 * CARTOColors palette) for the property `name`, read through `valueOf`; what `valueOf`
 * answers as null gets `noValueColor`. Answers the `getFillColor` accessor and its legend, one
 * entry a step, coloured by the accessor itself.
 */
function rampStyle({ name, valueOf, min, max, noValueColor }) {
  const steps = max > min ? RAMP_STEPS : 1;
  const width = (max - min) / steps;
  const bounds = Array.from({ length: steps + 1 }, (_, i) => (i === steps ? max : min + i * width));
  const getFillColor = deck.carto.colorBins({
    attr: (feature) => valueOf(feature.properties?.[name]),
    domain: bounds.slice(1, -1),
    colors: RAMP_PALETTE,
    nullColor: noValueColor,
  });
  const legend = bounds.slice(0, -1).map((lower, i) => {
    const upper = bounds[i + 1];
    const middle = { properties: { [name]: (lower + upper) / 2 } };
    return {
      color: [...getFillColor(middle, {})],
      label:
        steps === 1
          ? numberFormat.format(min)
          : `${numberFormat.format(lower)} – ${numberFormat.format(upper)}`,
    };
  });
  return { getFillColor, legend };
}

/** The numbers a raster band holds: null for its nodata value. */
function bandValueReader(band) {
  const nodata = typeof band.nodata === 'number' ? band.nodata : Number(band.nodata);
  // A float32 band holds its nodata value rounded to float32.
  const nodataValues = Number.isFinite(nodata) ? [nodata, Math.fround(nodata)] : [];
  return (raw) => {
    const value = toNumber(raw);
    return value === null || nodataValues.includes(value) ? null : value;
  };
}

/**
 * How a raster source is coloured: by the band `name` (the first by default) over its min..max
 * from `raster_metadata`, nodata transparent. Throws when the raster has no such band.
 */
function rasterStyle(source, name) {
  const bands = source.raster_metadata?.bands ?? [];
  const band = name ? bands.find((b) => b.name === name) : bands[0];
  const names = bands.map((b) => b.name).join(', ');
  if (!band) throw new Error(`Unknown band '${name}': the raster has ${names || 'no bands'}.`);
  const { min, max } = band.stats ?? {};
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new Error(`The band '${band.name}' has no statistics (min and max) to colour by.`);
  }
  const valueOf = bandValueReader(band);
  const style = rampStyle({ name: band.name, valueOf, min, max, noValueColor: TRANSPARENT });
  return {
    ...style,
    title: `${band.name} (${band.type})`,
    // A pixel without data shows nothing, so a hover over it shows nothing either.
    hasValue: (object) => valueOf(object?.properties?.[band.name]) !== null,
  };
}

/**
 * How a boundary source is coloured: by the numeric data column `name` (the first by default)
 * over its min..max from the TileJSON's tilestats. Without numeric columns, answers null (the
 * boundaries are drawn in one colour). Throws when the data has no such numeric column.
 */
function boundaryStyle(source, name) {
  const attributes = source.tilestats?.layers?.[0]?.attributes ?? [];
  const numeric = attributes.filter((attribute) => attribute.type === 'Number');
  if (!name && numeric.length === 0) return null;
  const column = name ? numeric.find((a) => a.attribute === name) : numeric[0];
  if (!column) {
    const names = numeric.map((a) => a.attribute).join(', ');
    throw new Error(
      `Unknown numeric column '${name}': the data has ${names || 'no numeric column'}.`,
    );
  }
  if (!Number.isFinite(column.min) || !Number.isFinite(column.max)) {
    throw new Error(`The column '${column.attribute}' has no values to colour by.`);
  }
  const style = rampStyle({
    name: column.attribute,
    valueOf: toNumber,
    min: column.min,
    max: column.max,
    noValueColor: NO_VALUE_FILL,
  });
  return {
    ...style,
    legend: [...style.legend, { color: NO_VALUE_FILL, label: 'no data' }],
    title: column.attribute,
    // Boundaries without data are drawn too, and a hover says so.
    hasValue: () => true,
  };
}

/** The feature properties a hover shows, one per line. */
function describeFeature(object) {
  if (!object) return null;
  const properties = object.properties ?? {};
  const lines = Object.keys(properties)
    .filter((key) => !key.startsWith('_carto'))
    .slice(0, 12)
    .map((key) => `${key}: ${formatValue(properties[key])}`);
  return lines.length > 0 ? { text: lines.join('\n') } : null;
}

window.graticulePreview = {
  ...window.graticulePreview,
  rasterStyle,
  boundaryStyle,
  describeFeature,
};
