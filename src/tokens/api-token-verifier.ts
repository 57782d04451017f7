import { TokenError, createVerifier } from 'fast-jwt';
import { API_TOKEN_ALG, type ApiTokenVerifier, type Principal } from '../auth/token-service.js';
import { errors } from '../http/errors.js';
import { isExpired, type ApiTokenRecord } from './api-token-record.js';

/**
 * Verifies API access tokens: an HS256 signature with the store's HMAC key (no other
 * algorithm, so a token signed with anything else, or unsigned, fails), the `exp` claim when
 * there is one, and that the token still exists and belongs to the account in its `a` claim.
 *
 * The signature is checked with node:crypto's HMAC, synchronously (about 4 µs; WebCrypto
 * queues each check on the thread pool and costs thirty times that). The record comes from
 * the token service's short-lived cache, so revocation stays as quick as that cache allows.
 */
export class HmacApiTokenVerifier implements ApiTokenVerifier {
  private readonly verifySignature: (token: string) => Record<string, unknown>;

  constructor(
    key: Uint8Array,
    private readonly lookup: (id: string) => Promise<ApiTokenRecord | undefined>,
  ) {
    this.verifySignature = createVerifier({
      algorithms: [API_TOKEN_ALG],
      key: Buffer.from(key),
      cache: false,
    }) as (token: string) => Record<string, unknown>;
  }

  async verify(token: string): Promise<Principal> {
    const claims = this.claimsOf(token);
    const record = await this.lookup(claims.jti);
    if (!record || record.accountId !== claims.a) {
      throw errors.tokenInvalid('the token was revoked or does not exist');
    }
    if (isExpired(record, Date.now())) throw errors.tokenInvalid('the token has expired');
    return {
      kind: 'api_token',
      subject: `token:${record.id}`,
      accountId: record.accountId,
      clientId: '',
      scope: [],
      permissions: [],
      apiTokenId: record.id,
      createdBy: record.createdBy,
    };
  }

  private claimsOf(token: string): { a: string; jti: string } {
    let payload: Record<string, unknown>;
    try {
      payload = this.verifySignature(token);
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      if (error.code === TokenError.codes.expired) {
        throw errors.tokenInvalid('the token has expired');
      }
      throw errors.tokenInvalid('the token is malformed or its signature does not verify');
    }
    if (typeof payload.a !== 'string' || typeof payload.jti !== 'string') {
      throw errors.tokenInvalid('the token names no account or id');
    }
    return { a: payload.a, jti: payload.jti };
  }
}
