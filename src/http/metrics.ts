import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds: a cached tile takes under a millisecond, a big query minutes. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const LONG_BUCKETS = [2.5, 5, 10, 30, 60, 300];

/**
 * The server's Prometheus metrics, served at `/metrics`: the process (CPU, memory, event loop
 * lag, garbage collection), every HTTP answer by route pattern and status, and the tile cache.
 * Labels carry route patterns, never paths, names or ids, so their number stays small and no
 * account's data shows. One registry per server, so several servers can share a process.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly durations: Histogram<'method' | 'route'>;
  private readonly tiles: Counter<'result'>;
  /**
   * The series of each method, route and status, looked up once: finding a series by its
   * labels costs more than counting in it, and a cached tile is answered in tens of µs.
   */
  private readonly series = new Map<string, { count: () => void; time: (s: number) => void }>();
  private readonly tileSeries: Record<'hit' | 'miss', () => void>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'graticule_' });
    this.requests = new Counter({
      name: 'graticule_http_requests_total',
      help: 'HTTP answers, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.durations = new Histogram({
      name: 'graticule_http_request_duration_seconds',
      help: 'Time from a request arriving to its answer being sent, by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: [...DURATION_BUCKETS, ...LONG_BUCKETS],
      registers: [this.registry],
    });
    this.tiles = new Counter({
      name: 'graticule_tile_cache_requests_total',
      help: 'Tile requests answered from the tile cache (hit) or built by the warehouse (miss)',
      labelNames: ['result'],
      registers: [this.registry],
    });
    const hit = this.tiles.labels({ result: 'hit' });
    const miss = this.tiles.labels({ result: 'miss' });
    this.tileSeries = { hit: () => hit.inc(), miss: () => miss.inc() };
  }

  /** Counts one answer; `route` is the route pattern, or `unmatched` for none. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      const counter = this.requests.labels({ method, route, status: String(status) });
      const histogram = this.durations.labels({ method, route });
      series = { count: () => counter.inc(), time: (s) => histogram.observe(s) };
      this.series.set(key, series);
    }
    series.count();
    series.time(seconds);
  }

  observeTile(hit: boolean): void {
    this.tileSeries[hit ? 'hit' : 'miss']();
  }

  /** The metrics in Prometheus's text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
