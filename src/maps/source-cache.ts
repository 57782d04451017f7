import { LRUCache } from 'lru-cache';
import type { Connection } from '../connections/connection-registry.js';
import { sourceKey, type SourceDefinition } from './source-definition.js';
import { inspectSource, type InspectionLimits, type SourceInspection } from './source-inspector.js';

/** An inspection under way, and its result once it is there. */
interface Inspecting {
  pending: Promise<SourceInspection>;
  done?: SourceInspection;
}

/**
 * Remembers source inspections for a while, and shares one inspection among concurrent
 * requests for the same source, so a map's burst of tile requests inspects once.
 */
export class SourceCache {
  private readonly entries: LRUCache<string, Inspecting>;

  constructor(
    private readonly limits: InspectionLimits,
    ttlSeconds = 300,
  ) {
    this.entries = new LRUCache({ max: 1000, ttl: ttlSeconds * 1000 });
  }

  /** Drops what was learned about a source, so the next request inspects it again. */
  forget(connection: Connection, source: SourceDefinition): void {
    this.entries.delete(sourceKey(source, connection.cacheKey));
  }

  inspect(
    connection: Connection,
    source: SourceDefinition,
    key = sourceKey(source, connection.cacheKey),
  ): Promise<SourceInspection> {
    const cached = this.entries.get(key);
    if (cached) return cached.pending;
    const entry: Inspecting = { pending: inspectSource(connection.driver, source, this.limits) };
    this.entries.set(key, entry);
    entry.pending.then(
      (inspection) => (entry.done = inspection),
      () => this.entries.delete(key),
    );
    return entry.pending;
  }

  /** What an inspection that has finished found about the source of `key`, if any. */
  peek(key: string): SourceInspection | undefined {
    return this.entries.get(key)?.done;
  }
}
