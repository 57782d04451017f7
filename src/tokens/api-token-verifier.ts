import { errors as joseErrors, jwtVerify, type CryptoKey } from 'jose';
import { API_TOKEN_ALG, type ApiTokenVerifier, type Principal } from '../auth/token-service.js';
import { errors } from '../http/errors.js';
import { isExpired, type ApiTokenRecord } from './api-token-record.js';

/**
 * Verifies API access tokens: an HS256 signature with the store's HMAC key (no other
 * algorithm, so a token signed with anything else, or unsigned, fails), the `exp` claim when
 * there is one, and that the token still exists and belongs to the account in its `a` claim.
 */
export class HmacApiTokenVerifier implements ApiTokenVerifier {
  constructor(
    private readonly key: Uint8Array,
    private readonly lookup: (id: string) => Promise<ApiTokenRecord | undefined>,
  ) {}

  /** The HMAC key imported once: importing it on every verification costs more than the check. */
  private importedKey: Promise<CryptoKey> | undefined;

  private verificationKey(): Promise<CryptoKey> {
    this.importedKey ??= crypto.subtle.importKey(
      'raw',
      this.key,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    return this.importedKey;
  }

  async verify(token: string): Promise<Principal> {
    const claims = await this.verifySignature(token);
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

  private async verifySignature(token: string): Promise<{ a: string; jti: string }> {
    try {
      const { payload } = await jwtVerify(token, await this.verificationKey(), {
        algorithms: [API_TOKEN_ALG],
      });
      if (typeof payload.a !== 'string' || typeof payload.jti !== 'string') {
        throw errors.tokenInvalid('the token names no account or id');
      }
      return { a: payload.a, jti: payload.jti };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw errors.tokenInvalid('the token has expired');
      }
      if (error instanceof joseErrors.JOSEError) {
        throw errors.tokenInvalid('the token is malformed or its signature does not verify');
      }
      throw error;
    }
  }
}
