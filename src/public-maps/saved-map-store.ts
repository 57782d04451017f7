import { randomUUID } from 'node:crypto';
import { dialectOf } from '../store/store-dialect.js';
import type { Store } from '../store/store.js';
import type { MapPrivacy, SavedMapsTable } from '../store/schema.js';
import type { KeplerMapConfig, MapChanges, MapDataset, NewMap } from './map-body.js';

/** A saved map as the API answers it (without its account). */
export interface SavedMap {
  id: string;
  title: string;
  description: string;
  privacy: MapPrivacy;
  datasets: MapDataset[];
  keplerMapConfig: KeplerMapConfig;
  createdAt: string;
  updatedAt: string;
}

/** A saved map and the account it belongs to. */
export interface OwnedMap {
  accountId: string;
  map: SavedMap;
}

export type SavedMapSummary = Omit<SavedMap, 'datasets' | 'keplerMapConfig'>;

const SUMMARY_COLUMNS = [
  'id',
  'title',
  'description',
  'privacy',
  'created_at',
  'updated_at',
] as const;

function summaryOf(row: Pick<SavedMapsTable, (typeof SUMMARY_COLUMNS)[number]>): SavedMapSummary {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    privacy: row.privacy,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function mapOf(row: SavedMapsTable): SavedMap {
  return {
    ...summaryOf(row),
    datasets: JSON.parse(row.datasets) as MapDataset[],
    keplerMapConfig: JSON.parse(row.kepler_map_config) as KeplerMapConfig,
  };
}

/**
 * A timestamp later than `previous`: two changes within one millisecond still get distinct
 * `updatedAt` values, which the map's ETag and `Last-Modified` are made from.
 */
function nextTimestamp(previous: string): string {
  const now = Date.now();
  const last = Date.parse(previous);
  return new Date(Number.isFinite(last) && now <= last ? last + 1 : now).toISOString();
}

/** Saved maps in the metadata store. Every call but `find` is limited to one account. */
export class SavedMapStore {
  constructor(private readonly store: Store) {}

  async create(accountId: string, input: NewMap): Promise<SavedMap> {
    const now = new Date().toISOString();
    const row: SavedMapsTable = {
      id: randomUUID(),
      account_id: accountId,
      title: input.title,
      description: input.description,
      privacy: input.privacy,
      datasets: JSON.stringify(input.datasets),
      kepler_map_config: JSON.stringify(input.keplerMapConfig),
      created_at: now,
      updated_at: now,
    };
    await this.store.insertInto('saved_maps').values(row).execute();
    return mapOf(row);
  }

  /** A page of an account's maps, most recently changed first, and how many it has. */
  async list(
    accountId: string,
    page: { limit: number; offset: number },
  ): Promise<{ data: SavedMapSummary[]; total: number }> {
    const rows = await this.store
      .selectFrom('saved_maps')
      .select(SUMMARY_COLUMNS)
      .where('account_id', '=', accountId)
      .orderBy('updated_at', 'desc')
      .orderBy('id')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const { total } = await this.store
      .selectFrom('saved_maps')
      .select((eb) => eb.fn.countAll<number>().as('total'))
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    return { data: rows.map(summaryOf), total: Number(total) };
  }

  /** The map `id` of any account, with its owner; for the public map route. */
  async find(id: string): Promise<OwnedMap | undefined> {
    const row = await this.store
      .selectFrom('saved_maps')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? { accountId: row.account_id, map: mapOf(row) } : undefined;
  }

  async get(accountId: string, id: string): Promise<SavedMap | undefined> {
    const found = await this.find(id);
    return found?.accountId === accountId ? found.map : undefined;
  }

  /**
   * Writes the changes over the map, after `check` has accepted the result; undefined when the
   * account has no such map. Read, check and write form one transaction.
   */
  async update(
    accountId: string,
    id: string,
    changes: MapChanges,
    check: (merged: SavedMap) => void,
  ): Promise<SavedMap | undefined> {
    return this.store.transaction().execute(async (tx) => {
      // SQLite runs one writing transaction at a time; PostgreSQL needs the row locked, or two
      // nodes updating one map at once would each write over the other's change.
      const row = await tx
        .selectFrom('saved_maps')
        .selectAll()
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .$if(dialectOf(tx) === 'postgres', (query) => query.forUpdate())
        .executeTakeFirst();
      if (!row) return undefined;
      const current = mapOf(row);
      const merged: SavedMap = {
        ...current,
        ...changes,
        updatedAt: nextTimestamp(current.updatedAt),
      };
      check(merged);
      await tx
        .updateTable('saved_maps')
        .set({
          title: merged.title,
          description: merged.description,
          privacy: merged.privacy,
          datasets: JSON.stringify(merged.datasets),
          kepler_map_config: JSON.stringify(merged.keplerMapConfig),
          updated_at: merged.updatedAt,
        })
        .where('id', '=', id)
        .execute();
      return merged;
    });
  }

  /** Removes the map; false when the account has no such map. */
  async remove(accountId: string, id: string): Promise<boolean> {
    const result = await this.store
      .deleteFrom('saved_maps')
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
