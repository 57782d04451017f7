import { LRUCache } from 'lru-cache';
import type { Connection } from '../connections/connection-registry.js';
import { sourceKey, type SourceDefinition } from './source-definition.js';
import { inspectSource, type InspectionLimits, type SourceInspection } from './source-inspector.js';

/**
 * Remembers source inspections for a while, and shares one inspection among concurrent
 * requests for the same source, so a map's burst of tile requests inspects once.
 */
export class SourceCache {
  private readonly entries: LRUCache<string, Promise<SourceInspection>>;

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

  inspect(connection: Connection, source: SourceDefinition): Promise<SourceInspection> {
    const key = sourceKey(source, connection.cacheKey);
    const cached = this.entries.get(key);
    if (cached) return cached;
    const pending = inspectSource(connection.driver, source, this.limits);
    this.entries.set(key, pending);
    pending.catch(() => this.entries.delete(key));
    return pending;
  }
}
