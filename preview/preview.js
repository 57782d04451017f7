/* global deck, document, window, location, URLSearchParams */
// Draws one source of Graticule's Maps API with deck.gl's CARTO module, talking to the server
// that served this page. The global `deck` comes from deck.gl's browser bundles, loaded first.

const SOURCE_FILL = [232, 93, 4, 170];
const SOURCE_LINE = [158, 50, 0, 255];
const LAND_FILL = [246, 244, 238, 255];
const LAND_LINE = [196, 192, 182, 255];
const GRATICULE_LINE = [200, 211, 222, 255];
/** Web Mercator cannot show the poles; bounds are clamped to the latitudes it can. */
const MAX_MERCATOR_LATITUDE = 85.051129;
const WORLD_VIEW = { longitude: 0, latitude: 20, zoom: 1 };

/** What each `spatialDataType` is drawn with: the source functions and the layer. */
const SOURCE_KINDS = {
  geo: { table: 'vectorTableSource', query: 'vectorQuerySource', layer: 'VectorTileLayer' },
  h3: { table: 'h3TableSource', query: 'h3QuerySource', layer: 'H3TileLayer' },
  quadbin: { table: 'quadbinTableSource', query: 'quadbinQuerySource', layer: 'QuadbinTileLayer' },
};
/** What CARTO's own clients aggregate spatial index cells by when nothing else is asked for. */
const DEFAULT_AGGREGATION_EXP = '1 AS __aggregationValue';

/**
 * How far the page got, for people and for scripts driving a browser (the browser tests wait
 * for `loaded` or `error`): `starting`, `needs_token`, `loading`, `loaded` or `error`.
 */
const state = { status: 'starting', error: null, tilesWithData: 0, basemap: 'none' };
window.__previewState = state;

const elements = {
  map: document.getElementById('map'),
  source: document.getElementById('source'),
  status: document.getElementById('status'),
  error: document.getElementById('error'),
  form: document.getElementById('token-form'),
  tokenInput: document.getElementById('token-input'),
};

function showStatus(text) {
  elements.status.textContent = text;
}

function showError(message) {
  Object.assign(state, { status: 'error', error: message });
  elements.error.textContent = message;
  elements.error.hidden = false;
  showStatus('The map could not be drawn.');
}

/**
 * What went wrong, in a line or two. A CartoAPIError carries the request it made and the
 * server's own message (the `error` field of the API's JSON answer).
 */
function messageOf(error) {
  if (error?.errorContext && error.error) {
    const status = error.response ? ` (${error.response.status})` : '';
    return `${error.errorContext.requestType} request failed${status}: ${messageOf(error.error)}`;
  }
  const text = error instanceof Error ? error.message : String(error);
  return text.trim() || 'Unknown error';
}

/** A finite number from a parameter, or undefined when it is absent. */
function readNumber(params, name, problems) {
  const text = params.get(name);
  if (text === null || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) problems.push(`'${name}' must be a number`);
  return value;
}

/**
 * The source the page's address names, or the problems with it. `connection` and one of
 * `name` (a table) or `q` (a SQL query) are required; the rest is passed on to the source
 * function as CARTO's clients name it.
 */
function readSourceRequest(search) {
  const params = new URLSearchParams(search);
  const problems = [];
  const connectionName = params.get('connection')?.trim();
  const tableName = params.get('name')?.trim();
  const sqlQuery = params.get('q')?.trim();
  const spatialDataType = params.get('spatialDataType')?.trim() || 'geo';
  if (!connectionName) problems.push("Missing parameter 'connection': the connection's name.");
  if (!tableName && !sqlQuery) {
    problems.push("Missing parameter 'name' (a table) or 'q' (a SQL query).");
  }
  if (tableName && sqlQuery) problems.push("Give either 'name' or 'q', not both.");
  const kind = SOURCE_KINDS[spatialDataType];
  if (!Object.hasOwn(SOURCE_KINDS, spatialDataType)) {
    problems.push(`Unknown 'spatialDataType' '${spatialDataType}': use geo, h3 or quadbin.`);
  }

  const options = { connectionName };
  if (tableName) options.tableName = tableName;
  if (sqlQuery) options.sqlQuery = sqlQuery;
  const spatialDataColumn = params.get('spatialDataColumn')?.trim();
  if (spatialDataColumn) options.spatialDataColumn = spatialDataColumn;
  const aggregationExp = params.get('aggregationExp')?.trim();
  if (aggregationExp) options.aggregationExp = aggregationExp;
  else if (spatialDataType !== 'geo') options.aggregationExp = DEFAULT_AGGREGATION_EXP;
  const aggregationResLevel = readNumber(params, 'aggregationResLevel', problems);
  if (aggregationResLevel !== undefined) options.aggregationResLevel = aggregationResLevel;
  const queryParameters = params.get('queryParameters');
  if (queryParameters) {
    try {
      options.queryParameters = JSON.parse(queryParameters);
    } catch {
      problems.push("'queryParameters' must be JSON (an object or an array).");
    }
  }
  const basemap = params.get('basemap') ?? 'countries';
  if (!['countries', 'none'].includes(basemap)) {
    problems.push(`Unknown 'basemap' '${basemap}': use countries or none.`);
  }

  return { problems, kind, options, basemap, spatialDataType, label: tableName || sqlQuery };
}

/** The access token from the address's fragment (`#access_token=...`), if there is one. */
function readFragmentToken() {
  const token = new URLSearchParams(location.hash.slice(1)).get('access_token');
  return token?.trim() || null;
}

/** Asks for a token with the form; resolves with what the user pastes. */
function askForToken() {
  state.status = 'needs_token';
  showStatus('This page needs an access token to read the source.');
  elements.form.hidden = false;
  elements.tokenInput.focus();
  return new Promise((resolve) => {
    elements.form.addEventListener('submit', function onSubmit(event) {
      event.preventDefault();
      const token = elements.tokenInput.value.trim();
      if (!token) return;
      elements.form.removeEventListener('submit', onSubmit);
      elements.form.hidden = true;
      elements.tokenInput.value = '';
      resolve(token);
    });
  });
}

/** The view that shows `[west, south, east, north]` whole, or the world without bounds. */
function viewStateFor(bounds, width, height) {
  if (!Array.isArray(bounds) || bounds.length !== 4 || !bounds.every(Number.isFinite)) {
    return WORLD_VIEW;
  }
  const clamp = (latitude) =>
    Math.max(-MAX_MERCATOR_LATITUDE, Math.min(MAX_MERCATOR_LATITUDE, latitude));
  const [west, south, east, north] = bounds;
  if (east - west < 1e-9 && north - south < 1e-9) {
    return { longitude: west, latitude: clamp(south), zoom: 12 };
  }
  const padding = Math.max(0, Math.min(40, Math.floor(Math.min(width, height) / 4) - 1));
  const viewport = new deck.WebMercatorViewport({ width, height });
  const fitted = viewport.fitBounds(
    [
      [west, clamp(south)],
      [east, clamp(north)],
    ],
    { padding },
  );
  return { longitude: fitted.longitude, latitude: fitted.latitude, zoom: Math.max(0, fitted.zoom) };
}

/** Lines every 30 degrees of longitude and latitude: a frame of reference without tiles. */
function graticuleLayer() {
  const lines = [];
  for (let longitude = -180; longitude <= 180; longitude += 30) {
    lines.push({ path: [-80, -40, 0, 40, 80].map((latitude) => [longitude, latitude]) });
  }
  for (let latitude = -60; latitude <= 60; latitude += 30) {
    lines.push({ path: [-180, -90, 0, 90, 180].map((longitude) => [longitude, latitude]) });
  }
  return new deck.PathLayer({
    id: 'graticule',
    data: lines,
    getPath: (line) => line.path,
    getColor: GRATICULE_LINE,
    getWidth: 1,
    widthUnits: 'pixels',
  });
}

/** The feature properties a hover shows, one per line. */
function tooltipFor({ object }) {
  if (!object) return null;
  const properties = object.properties ?? {};
  const lines = Object.entries(properties)
    .filter(([key]) => !key.startsWith('_carto'))
    .slice(0, 12)
    .map(([key, value]) => `${key}: ${value}`);
  return lines.length > 0 ? { text: lines.join('\n') } : null;
}

/** Tiles are parsed on the page's thread: loaders.gl's workers would come from a CDN. */
const LOAD_OPTIONS = { worker: false };

function sourceLayer(kind, data, callbacks) {
  const common = {
    id: 'source',
    data,
    pickable: true,
    loadOptions: LOAD_OPTIONS,
    getFillColor: SOURCE_FILL,
    getLineColor: SOURCE_LINE,
    ...callbacks,
  };
  if (kind.layer === 'VectorTileLayer') {
    return new deck.carto.VectorTileLayer({
      ...common,
      lineWidthMinPixels: 1,
      pointType: 'circle',
      pointRadiusUnits: 'pixels',
      getPointRadius: 2.5,
    });
  }
  return new deck.carto[kind.layer]({ ...common, stroked: true, lineWidthMinPixels: 0.5 });
}

function basemapLayer(data, callbacks) {
  return new deck.carto.VectorTileLayer({
    id: 'basemap-countries',
    data,
    loadOptions: LOAD_OPTIONS,
    getFillColor: LAND_FILL,
    getLineColor: LAND_LINE,
    lineWidthMinPixels: 1,
    ...callbacks,
  });
}

/** Instantiates the base layer's source; a failure leaves the map without it. */
async function loadBasemap(basemap, sourceOptions) {
  if (basemap === 'none') return null;
  try {
    return await deck.carto.vectorTableSource({
      ...sourceOptions,
      connectionName: 'carto_dw',
      tableName: 'demo.countries',
    });
  } catch (error) {
    state.basemap = `unavailable: ${messageOf(error)}`;
    return null;
  }
}

function markLoaded() {
  if (state.status !== 'loading') return;
  state.status = 'loaded';
  showStatus(state.tilesWithData > 0 ? 'Loaded.' : 'Loaded: nothing to draw in this view.');
}

async function drawMap(request, accessToken) {
  state.status = 'loading';
  showStatus('Loading the source…');
  const common = { apiBaseUrl: location.origin, accessToken, clientId: 'graticule-preview' };
  const sourceFunction = deck.carto[request.kind[request.options.tableName ? 'table' : 'query']];

  const [source, basemap] = await Promise.all([
    sourceFunction({ ...common, ...request.options }),
    loadBasemap(request.basemap, common),
  ]);

  // The map counts as loaded once every tiled layer has its visible tiles and has drawn them.
  const waitingFor = new Set(basemap ? ['source', 'basemap'] : ['source']);
  let loadedFrameSeen = false;
  const callbacksFor = (name) => ({
    onViewportLoad: (tiles) => {
      if (name === 'source') state.tilesWithData = tiles.filter((tile) => tile.content).length;
      waitingFor.delete(name);
    },
    onTileError: (error) => {
      // The base layer is a courtesy: without its tiles the source is still worth seeing.
      if (name === 'basemap') state.basemap = `unavailable: ${messageOf(error)}`;
      else showError(messageOf(error));
    },
  });
  const layers = [graticuleLayer()];
  if (basemap) {
    state.basemap = 'countries';
    layers.push(basemapLayer(basemap, callbacksFor('basemap')));
  }
  layers.push(sourceLayer(request.kind, source, callbacksFor('source')));

  const { clientWidth, clientHeight } = elements.map;
  new deck.Deck({
    parent: elements.map,
    // H3 tiling does not follow the world's copies: with them it keeps reloading its tiles.
    views: new deck.MapView({ repeat: request.spatialDataType !== 'h3' }),
    initialViewState: viewStateFor(source.bounds, clientWidth, clientHeight),
    controller: true,
    layers,
    getTooltip: tooltipFor,
    onError: (error) => showError(messageOf(error)),
    onAfterRender: () => {
      if (waitingFor.size > 0 || loadedFrameSeen) return;
      loadedFrameSeen = true;
      // This frame drew the last tiles; two frames on, they are on the screen.
      window.requestAnimationFrame(() => window.requestAnimationFrame(markLoaded));
    },
  });
}

async function main() {
  const request = readSourceRequest(location.search);
  elements.source.textContent = request.label
    ? `${request.options.connectionName ?? '?'} · ${request.label}`
    : '';
  if (request.problems.length > 0) {
    showError(request.problems.join('\n'));
    return;
  }
  if (typeof deck === 'undefined' || !deck.carto) {
    showError('deck.gl did not load; check the browser console.');
    return;
  }
  const accessToken = readFragmentToken() ?? (await askForToken());
  await drawMap(request, accessToken);
}

// A new token in the address starts over with it.
window.addEventListener('hashchange', () => location.reload());

main().catch((error) => showError(messageOf(error)));
