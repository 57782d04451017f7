import { ApiError } from '../http/errors.js';
import type { Store } from '../store/store.js';
import { toApiTokenView, type ApiTokenRecord, type ApiTokenView } from './api-token-record.js';
import type { ApiTokenService, TokenCaller } from './api-token-service.js';

/** Who made a token: a user, an application (client credentials), or a public map. */
export type TokenCreatorKind = 'user' | 'application' | 'public_map' | 'unknown';

/** A token as an account's admins see it: the owner's view, plus who created it. */
export interface AccountTokenView extends ApiTokenView {
  /** The subject that created it: a user id or a client id; empty for a public map's. */
  created_by: string;
  creator_kind: TokenCreatorKind;
  /** The user's e-mail; for an application, its owner's; null when there is none. */
  creator_email: string | null;
}

export const accountTokenErrors = {
  /** A public map's token goes with the map: revoking it here would break the map. */
  tokenManagedByMap: (id: string) =>
    new ApiError(
      409,
      'token_managed_by_map',
      `Token '${id}' belongs to a public map; make the map private or delete it instead`,
    ),
} as const;

/** A saved public map's token: made by no one (`created_by` empty), with a `tk_map_` id. */
export function isPublicMapToken(record: ApiTokenRecord): boolean {
  return record.createdBy === '' && record.id.startsWith('tk_map_');
}

/**
 * Every API access token of an account, for its admins: list them with their creators, and
 * revoke any of them the way their owner would. Public maps' tokens are listed, marked, and
 * left to their maps.
 */
export class AccountTokenService {
  constructor(
    private readonly store: Store,
    private readonly tokens: ApiTokenService,
  ) {}

  async list(accountId: string): Promise<AccountTokenView[]> {
    const records = await this.tokens.listAccount(accountId);
    const creators = await this.creatorsOf(
      accountId,
      records.filter((record) => !isPublicMapToken(record)).map((record) => record.createdBy),
    );
    return records.map((record) => {
      const creator = isPublicMapToken(record)
        ? { kind: 'public_map' as const, email: null }
        : (creators.get(record.createdBy) ?? { kind: 'unknown' as const, email: null });
      return {
        ...toApiTokenView(record),
        created_by: record.createdBy,
        creator_kind: creator.kind,
        creator_email: creator.email,
      };
    });
  }

  /** Revokes any token of the caller's account but a public map's (409). */
  async revoke(caller: TokenCaller, key: string): Promise<void> {
    const record = await this.tokens.findInAccount(caller.principal.accountId, key);
    if (isPublicMapToken(record)) throw accountTokenErrors.tokenManagedByMap(record.id);
    await this.tokens.revoke(caller, record, { created_by: record.createdBy, by_admin: true });
  }

  /** The kind and e-mail of each subject: the account's users, then its applications. */
  private async creatorsOf(
    accountId: string,
    subjects: string[],
  ): Promise<Map<string, { kind: TokenCreatorKind; email: string | null }>> {
    const creators = new Map<string, { kind: TokenCreatorKind; email: string | null }>();
    const unique = [...new Set(subjects)];
    if (unique.length === 0) return creators;
    const users = await this.store
      .selectFrom('users')
      .select(['id', 'email'])
      .where('account_id', '=', accountId)
      .where('id', 'in', unique)
      .execute();
    for (const user of users) creators.set(user.id, { kind: 'user', email: user.email });
    const applications = await this.store
      .selectFrom('applications')
      .innerJoin('users', 'users.id', 'applications.owner_user_id')
      .select(['applications.client_id as clientId', 'users.email as email'])
      .where('applications.account_id', '=', accountId)
      .where('applications.client_id', 'in', unique)
      .execute();
    for (const app of applications) {
      creators.set(app.clientId, { kind: 'application', email: app.email });
    }
    return creators;
  }
}
