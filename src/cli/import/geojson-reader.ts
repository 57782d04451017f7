/** One feature of a FeatureCollection: its 1-based number, first line and parsed value. */
export interface GeoJsonFeatureText {
  index: number;
  line: number;
  feature: unknown;
}

/** A GeoJSON file that is not a well-formed FeatureCollection. */
export class GeoJsonSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
    readonly featureIndex?: number,
  ) {
    super(message);
  }
}

/**
 * Streams the features of a GeoJSON FeatureCollection with flat memory: the text is scanned
 * for structure only (strings, brackets and the top-level keys), and each member of the
 * top-level `features` array is parsed on its own with JSON.parse. Other top-level members
 * (`type`, `name`, `crs`, `bbox`) are skipped, except that a `type` other than
 * FeatureCollection is refused.
 */
export async function* readGeoJsonFeatures(
  chunks: AsyncIterable<string>,
): AsyncGenerator<GeoJsonFeatureText> {
  const stack: string[] = [];
  let line = 1;
  let inString = false;
  let escaped = false;
  let expectingKey = false;
  /** The text of a top-level key or string value being read; null when none is. */
  let topString: string | null = null;
  let topStringIsKey = false;
  let topKey: string | null = null;
  let inFeatures = false;
  let sawFeatures = false;
  let ended = false;
  let index = 0;
  /** The current feature's text so far; null between features. */
  let feature: string[] | null = null;
  let featureLine = 0;

  const parseFeature = (text: string): GeoJsonFeatureText => {
    try {
      return { index, line: featureLine, feature: JSON.parse(text) as unknown };
    } catch (error) {
      throw new GeoJsonSyntaxError(featureLine, (error as Error).message, index);
    }
  };

  const endTopString = (): void => {
    const value = JSON.parse(`"${topString}"`) as string;
    topString = null;
    if (topStringIsKey) {
      topKey = value;
    } else if (topKey === 'type' && value !== 'FeatureCollection') {
      throw new GeoJsonSyntaxError(line, `expected a FeatureCollection, found a ${value}`);
    }
  };

  for await (const chunk of chunks) {
    let featureStart = 0;
    for (let i = 0; i < chunk.length; i += 1) {
      const c = chunk[i]!;
      if (c === '\n') line += 1;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') {
          inString = false;
          if (topString !== null) endTopString();
          continue;
        }
        if (topString !== null) topString += c;
        continue;
      }
      if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
      if (ended) throw new GeoJsonSyntaxError(line, 'more text after the FeatureCollection');
      if (stack.length === 0 && c !== '{') {
        throw new GeoJsonSyntaxError(line, 'expected a GeoJSON FeatureCollection (an object)');
      }
      switch (c) {
        case '"':
          inString = true;
          if (stack.length === 1) {
            topString = '';
            topStringIsKey = expectingKey;
            expectingKey = false;
          }
          break;
        case '{':
        case '[':
          if (stack.length === 0) {
            expectingKey = true;
          } else if (stack.length === 1 && c === '[' && topKey === 'features') {
            inFeatures = true;
            sawFeatures = true;
          } else if (stack.length === 2 && inFeatures) {
            index += 1;
            if (c !== '{') throw new GeoJsonSyntaxError(line, 'is not an object', index);
            feature = [];
            featureStart = i;
            featureLine = line;
          }
          stack.push(c);
          break;
        case '}':
        case ']': {
          const open = stack.pop();
          if (open === undefined || (open === '{') !== (c === '}')) {
            throw new GeoJsonSyntaxError(line, `unexpected '${c}'`);
          }
          if (stack.length === 2 && feature !== null) {
            feature.push(chunk.slice(featureStart, i + 1));
            const text = feature.join('');
            feature = null;
            yield parseFeature(text);
          } else if (stack.length === 1 && inFeatures) {
            inFeatures = false;
          } else if (stack.length === 0) {
            ended = true;
          }
          break;
        }
        case ',':
          if (stack.length === 1) expectingKey = true;
          break;
        default:
          if (stack.length === 2 && inFeatures) {
            index += 1;
            throw new GeoJsonSyntaxError(line, 'is not an object', index);
          }
      }
    }
    if (feature !== null) feature.push(chunk.slice(featureStart));
  }
  if (!ended) {
    const where = feature !== null ? ` (feature ${index} is not closed)` : '';
    throw new GeoJsonSyntaxError(line, `the file ends early${where}`);
  }
  if (!sawFeatures) {
    throw new GeoJsonSyntaxError(line, 'expected a FeatureCollection: no features array');
  }
}
