/* global deck, document, window, location, URLSearchParams */
// Draws one source of Graticule's Maps API with deck.gl's CARTO module, talking to the server
// that served this page. The global `deck` comes from deck.gl's browser bundles, loaded first,
// and `window.graticulePreview` from preview-request.js and preview-style.js.

const { readSourceRequest, rasterStyle, boundaryStyle, describeFeature } =
  window.graticulePreview ?? {};

const SOURCE_FILL = [232, 93, 4, 170];
const SOURCE_LINE = [158, 50, 0, 255];
const LAND_FILL = [246, 244, 238, 255];
const LAND_LINE = [196, 192, 182, 255];
const GRATICULE_LINE = [200, 211, 222, 255];
const BOUNDARY_LINE = [255, 255, 255, 255];
/** Web Mercator cannot show the poles; bounds are clamped to the latitudes it can. */
const MAX_MERCATOR_LATITUDE = 85.051129;
const WORLD_VIEW = { longitude: 0, latitude: 20, zoom: 1 };

/**
 * How far the page got, for people and for scripts driving a browser (the browser tests wait
 * for `loaded` or `error`): `starting`, `needs_token`, `loading`, `loaded` or `error`.
 */
const state = { status: 'starting', error: null, tilesWithData: 0, basemap: 'none', legend: null };
window.__previewState = state;

const elements = {
  map: document.getElementById('map'),
  source: document.getElementById('source'),
  status: document.getElementById('status'),
  error: document.getElementById('error'),
  form: document.getElementById('token-form'),
  tokenInput: document.getElementById('token-input'),
  legend: document.getElementById('legend'),
  legendTitle: document.getElementById('legend-title'),
  legendSteps: document.getElementById('legend-steps'),
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

/** Tiles are parsed on the page's thread: loaders.gl's workers would come from a CDN. */
const LOAD_OPTIONS = { worker: false };

/**
 * How the source is coloured (rasters by a band, boundaries by a numeric data column), or null
 * for one colour. Throws for a band or column the source does not have.
 */
function styleFor(request, source) {
  if (request.type === 'raster') return rasterStyle(source, request.colorBy);
  if (request.type === 'boundary') return boundaryStyle(source, request.colorBy);
  return null;
}

function sourceLayer(request, data, style, callbacks) {
  const common = {
    id: 'source',
    data,
    pickable: true,
    loadOptions: LOAD_OPTIONS,
    getFillColor: style?.getFillColor ?? SOURCE_FILL,
    getLineColor: SOURCE_LINE,
    ...callbacks,
  };
  if (request.layer === 'RasterTileLayer') return new deck.carto.RasterTileLayer(common);
  if (request.type === 'boundary') {
    return new deck.carto.VectorTileLayer({
      ...common,
      getLineColor: style ? BOUNDARY_LINE : SOURCE_LINE,
      lineWidthMinPixels: 1,
    });
  }
  if (request.layer === 'VectorTileLayer') {
    return new deck.carto.VectorTileLayer({
      ...common,
      lineWidthMinPixels: 1,
      pointType: 'circle',
      pointRadiusUnits: 'pixels',
      getPointRadius: 2.5,
    });
  }
  return new deck.carto[request.layer]({ ...common, stroked: true, lineWidthMinPixels: 0.5 });
}

/** The ramp's steps beside the map, and in the page's state for scripts. */
function showLegend(style) {
  state.legend = { title: style.title, steps: style.legend };
  elements.legendTitle.textContent = style.title;
  elements.legendSteps.replaceChildren(
    ...style.legend.map(({ color, label }) => {
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.backgroundColor = `rgb(${color.slice(0, 3).join(' ')} / ${color[3] / 255})`;
      const item = document.createElement('li');
      item.append(swatch, label);
      return item;
    }),
  );
  elements.legend.hidden = false;
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
  const [source, basemap] = await Promise.all([
    deck.carto[request.sourceFunction]({ ...common, ...request.options }),
    loadBasemap(request.basemap, common),
  ]);
  const style = styleFor(request, source);
  if (style) showLegend(style);

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
  layers.push(sourceLayer(request, source, style, callbacksFor('source')));

  const { clientWidth, clientHeight } = elements.map;
  new deck.Deck({
    parent: elements.map,
    views: new deck.MapView({ repeat: request.repeatWorld }),
    initialViewState: viewStateFor(source.bounds, clientWidth, clientHeight),
    controller: true,
    layers,
    // Raster pixels without data are not drawn, and a hover over them shows nothing.
    getTooltip: ({ object }) =>
      style?.hasValue(object) === false ? null : describeFeature(object),
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
  if (!readSourceRequest || !describeFeature) {
    showError("The page's scripts did not load; check the browser console.");
    return;
  }
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
