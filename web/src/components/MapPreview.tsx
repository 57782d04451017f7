/** Where the server serves its map preview page for framing by the console. */
const PREVIEW_PATH = '/ui/preview';

export interface MapSource {
  connection: string;
  /** A table, `schema.table`; or */
  name?: string;
  /** a SQL query. */
  q?: string;
  spatialDataColumn?: string;
}

interface MapPreviewProps {
  source: MapSource;
  /** The token the page's Maps API calls carry; it stays in the URL's fragment. */
  token: string;
  /** Draw `demo.countries` under the source (the token must reach it). */
  basemap: boolean;
}

/** The address of the preview page for a source; the token goes after `#`, never to a server. */
export function previewUrl({ source, token, basemap }: MapPreviewProps): string {
  const params = new URLSearchParams({ connection: source.connection });
  if (source.name) params.set('name', source.name);
  if (source.q) params.set('q', source.q);
  if (source.spatialDataColumn) params.set('spatialDataColumn', source.spatialDataColumn);
  if (!basemap) params.set('basemap', 'none');
  const fragment = new URLSearchParams({ access_token: token });
  return `${PREVIEW_PATH}?${params.toString()}#${fragment.toString()}`;
}

/**
 * Graticule's own map preview in a frame: deck.gl's CARTO layers draw the source through the
 * server's Maps API, with the given token.
 */
export function MapPreview(props: MapPreviewProps) {
  const label = props.source.name ?? 'a query';
  const src = previewUrl(props);
  return (
    <iframe
      key={src}
      className="map-frame"
      title={`Map preview of ${label}`}
      src={src}
      referrerPolicy="no-referrer"
    />
  );
}
