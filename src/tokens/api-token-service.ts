import { randomBytes } from 'node:crypto';
import { SignJWT, compactVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { recordAuditEvent } from '../audit/audit-log.js';
import { API_TOKEN_ALG, type Principal } from '../auth/token-service.js';
import { ApiError, errors } from '../http/errors.js';
import type { Store } from '../store/store.js';
import {
  toApiTokenView,
  type ApiTokenRecord,
  type ApiTokenView,
  type TokenGrant,
} from './api-token-record.js';
import { loadApiTokenKey } from './api-token-key.js';
import { ApiTokenStore, type ApiTokenChanges } from './api-token-store.js';
import { readNewToken, readTokenChanges, type NewTokenInput } from './api-token-input.js';
import { HmacApiTokenVerifier } from './api-token-verifier.js';
import { tokenErrors } from './token-errors.js';

/** Finds a connection of an account by name (the Connections API's lookup); 404 otherwise. */
export interface ConnectionLookup {
  get(accountId: string, idOrName: string): Promise<{ name: string }>;
}

export interface ApiTokenServiceOptions {
  connections: ConnectionLookup;
  /**
   * How long a token record read from the store is trusted: the longest a change or a
   * revocation made on another node takes to apply here. 0 reads the store on every use.
   */
  cacheTtlMs: number;
}

/** Who acts on the Tokens API, and from where (for the audit log). */
export interface TokenCaller {
  principal: Principal;
  ip: string;
}

const MAX_CACHED_TOKENS = 10_000;

/** The id of a saved map's token: derived from the map's, so each map has at most one. */
function mapTokenId(mapId: string): string {
  return `tk_map_${mapId.replace(/-/g, '')}`;
}

/**
 * API access tokens: creation (an HS256 JWT `{a, jti}` signed with the store's HMAC key),
 * the caller's own tokens, changes, revocation, and the record lookups of verification and
 * enforcement, cached briefly.
 */
export class ApiTokenService {
  readonly verifier: HmacApiTokenVerifier;
  private readonly records: ApiTokenStore;
  private readonly cache: LRUCache<string, ApiTokenRecord> | undefined;

  private constructor(
    private readonly store: Store,
    private readonly key: Uint8Array,
    private readonly options: ApiTokenServiceOptions,
  ) {
    this.records = new ApiTokenStore(store);
    this.cache =
      options.cacheTtlMs > 0
        ? new LRUCache({ max: MAX_CACHED_TOKENS, ttl: options.cacheTtlMs })
        : undefined;
    this.verifier = new HmacApiTokenVerifier(key, (id) => this.lookup(id));
  }

  /** Loads (or makes, on first start) the HMAC key and returns the service. */
  static async open(store: Store, options: ApiTokenServiceOptions): Promise<ApiTokenService> {
    return new ApiTokenService(store, await loadApiTokenKey(store), options);
  }

  /** The record of token `id`, from the short-lived cache or the store. */
  async lookup(id: string): Promise<ApiTokenRecord | undefined> {
    const cached = this.cache?.get(id);
    if (cached) return cached;
    const record = await this.records.find(id);
    if (record) this.cache?.set(id, record);
    return record;
  }

  async create(caller: TokenCaller, body: unknown): Promise<ApiTokenView> {
    const now = new Date();
    const input = readNewToken(body, now.getTime());
    const { principal } = caller;
    await this.assertConnectionsExist(principal.accountId, input);
    const id = `tk_${randomBytes(8).toString('hex')}`;
    const name = input.name ?? id.slice(0, 11);
    await this.assertNameFree(principal, name);

    const record: ApiTokenRecord = {
      id,
      accountId: principal.accountId,
      createdBy: principal.subject,
      name,
      grants: input.grants,
      allowedApis: input.allowedApis,
      referers: input.referers,
      expirationDate: input.expirationDate,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
    const token = await this.sign(record);
    await this.records.insert(record);
    await this.audit(caller, 'token.created', record);
    return { token, ...toApiTokenView(record) };
  }

  async list(principal: Principal): Promise<ApiTokenView[]> {
    const records = await this.records.listOwn(principal.accountId, principal.subject);
    return records.map(toApiTokenView);
  }

  async get(principal: Principal, key: string): Promise<ApiTokenView> {
    return toApiTokenView(await this.findOwn(principal, key));
  }

  async update(caller: TokenCaller, key: string, body: unknown): Promise<ApiTokenView> {
    const record = await this.findOwn(caller.principal, key);
    const changes: ApiTokenChanges = readTokenChanges(body);
    if (changes.grants) {
      await this.assertConnectionsExist(caller.principal.accountId, { grants: changes.grants });
    }
    if (changes.name !== undefined && changes.name !== record.name) {
      await this.assertNameFree(caller.principal, changes.name);
    }

    const updatedAt = new Date().toISOString();
    await this.records.update(record.id, changes, updatedAt);
    this.cache?.delete(record.id);
    const updated = { ...record, ...changes, updatedAt };
    await this.audit(caller, 'token.updated', updated, { changed: Object.keys(changes) });
    return toApiTokenView(updated);
  }

  /** Revokes a token: it answers 401 at once on this node, within the cache TTL elsewhere. */
  async remove(caller: TokenCaller, key: string): Promise<void> {
    await this.revoke(caller, await this.findOwn(caller.principal, key));
  }

  /** Every token of an account, whoever created it (public maps' included), oldest first. */
  async listAccount(accountId: string): Promise<ApiTokenRecord[]> {
    return this.records.listAccount(accountId);
  }

  /** A token of the account by token string or id, whoever created it; 404 otherwise. */
  async findInAccount(accountId: string, key: string): Promise<ApiTokenRecord> {
    const id = key.includes('.') ? await this.idOfTokenString(key) : key;
    const record = id === undefined ? undefined : await this.records.find(id);
    if (!record || record.accountId !== accountId) throw tokenErrors.tokenNotFound();
    return record;
  }

  /**
   * Revokes a token the caller may revoke (its own, or any of the account's for an admin), the
   * same way for both: it answers 401 at once on this node, within the cache TTL elsewhere.
   */
  async revoke(
    caller: TokenCaller,
    record: ApiTokenRecord,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    const deleted = await this.records.delete(record.id);
    this.cache?.delete(record.id);
    if (!deleted) throw tokenErrors.tokenNotFound();
    await this.audit(caller, 'token.revoked', record, details);
  }

  /**
   * The token a public map hands whoever views it (CARTO's `token` in the public map answer):
   * it reads the map's datasets (`grants`) through the Maps API (tiles, widgets, stats) and
   * nothing else; not the SQL API, which would run a query dataset's text outside read-only.
   * One per map, made on first use and kept in step with the map's datasets; it belongs to the
   * map, not to a user, so it lasts while the map is public and `dropMapToken` revokes it.
   */
  async mapToken(accountId: string, mapId: string, grants: TokenGrant[]): Promise<string> {
    const id = mapTokenId(mapId);
    let record = await this.records.find(id);
    if (record && record.accountId !== accountId) throw tokenErrors.tokenNotFound();
    const now = new Date().toISOString();
    if (!record) {
      record = {
        id,
        accountId,
        createdBy: '',
        name: `Public map ${mapId}`,
        grants,
        allowedApis: ['maps'],
        referers: [],
        expirationDate: null,
        createdAt: now,
        updatedAt: now,
      };
      // Two first viewers at once: the second finds the first one's record.
      await this.records.insert(record).catch(async (error: unknown) => {
        if (!(await this.records.find(id))) throw error;
      });
    } else if (JSON.stringify(record.grants) !== JSON.stringify(grants)) {
      await this.records.update(id, { grants }, now);
      this.cache?.delete(id);
    }
    return this.sign(record);
  }

  /** Revokes a map's token (the map was deleted or made private); nothing if it has none. */
  async dropMapToken(mapId: string): Promise<void> {
    const id = mapTokenId(mapId);
    await this.records.delete(id);
    this.cache?.delete(id);
  }

  private sign(record: ApiTokenRecord): Promise<string> {
    const jwt = new SignJWT({ a: record.accountId, jti: record.id }).setProtectedHeader({
      alg: API_TOKEN_ALG,
      typ: 'JWT',
    });
    if (record.expirationDate !== null) {
      jwt.setExpirationTime(Math.floor(Date.parse(record.expirationDate) / 1000));
    }
    return jwt.sign(this.key);
  }

  /**
   * The caller's own token named by `key`: the token string (CARTO's path key; its signature
   * must verify, its expiry does not matter) or the token id. Anything else is a 404.
   */
  private async findOwn(principal: Principal, key: string): Promise<ApiTokenRecord> {
    const id = key.includes('.') ? await this.idOfTokenString(key) : key;
    const record = id === undefined ? undefined : await this.records.find(id);
    if (
      !record ||
      record.accountId !== principal.accountId ||
      record.createdBy !== principal.subject
    ) {
      throw tokenErrors.tokenNotFound();
    }
    return record;
  }

  private async idOfTokenString(token: string): Promise<string | undefined> {
    try {
      const { payload } = await compactVerify(token, this.key, { algorithms: [API_TOKEN_ALG] });
      const claims = JSON.parse(new TextDecoder().decode(payload)) as { jti?: unknown };
      return typeof claims.jti === 'string' ? claims.jti : undefined;
    } catch {
      return undefined;
    }
  }

  private async assertConnectionsExist(
    accountId: string,
    input: Pick<NewTokenInput, 'grants'>,
  ): Promise<void> {
    const checked = new Map<string, boolean>();
    for (const [index, grant] of input.grants.entries()) {
      let exists = checked.get(grant.connection_name);
      if (exists === undefined) {
        exists = await this.options.connections
          .get(accountId, grant.connection_name)
          .then((connection) => connection.name === grant.connection_name)
          .catch((error: unknown) => {
            if (error instanceof ApiError && error.status === 404) return false;
            throw error;
          });
        checked.set(grant.connection_name, exists);
      }
      if (!exists) {
        throw errors.invalidParameter(
          `grants[${index}].connection_name`,
          `no connection named '${grant.connection_name}' in this account`,
        );
      }
    }
  }

  /** Token names are unique among a caller's own tokens, as in CARTO's Workspace. */
  private async assertNameFree(principal: Principal, name: string): Promise<void> {
    const own = await this.records.listOwn(principal.accountId, principal.subject);
    if (own.some((token) => token.name === name)) {
      throw errors.invalidParameter('name', `you already have a token named '${name}'`);
    }
  }

  private async audit(
    caller: TokenCaller,
    event: 'token.created' | 'token.updated' | 'token.revoked',
    record: ApiTokenRecord,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await recordAuditEvent(this.store, {
      accountId: record.accountId,
      event,
      actor: caller.principal.subject,
      target: record.id,
      ip: caller.ip,
      details: {
        name: record.name,
        allowed_apis: record.allowedApis,
        connections: [...new Set(record.grants.map((grant) => grant.connection_name))],
        ...extra,
      },
    });
  }
}
