import { createHash, createPublicKey, type JsonWebKeyInput } from 'node:crypto';
import { TokenError, createVerifier } from 'fast-jwt';
import { decodeProtectedHeader } from 'jose';
import { LRUCache } from 'lru-cache';
import { errors } from '../http/errors.js';
import { SIGNING_ALG, type SigningKeys } from './signing-keys.js';

/** The audience CARTO's clients ask for and its API expects. */
export const API_AUDIENCE = 'carto-cloud-native-api';
/** CARTO puts its own claims under this namespace (http, not https). */
export const CLAIM_NAMESPACE = 'http://app.carto.com/';
export const ACCOUNT_ID_CLAIM = `${CLAIM_NAMESPACE}account_id`;
export const EMAIL_CLAIM = `${CLAIM_NAMESPACE}email`;

/**
 * What kind of caller a token stands for: a logged-in user (authorization code flow), a
 * machine (client credentials, acting as the application's owner) or an API access token.
 */
export type PrincipalKind = 'user' | 'machine' | 'api_token';

/** Who a verified token speaks for. */
export interface Principal {
  kind: PrincipalKind;
  subject: string;
  accountId: string;
  /** The OAuth client the token was issued to; empty for API access tokens. */
  clientId: string;
  scope: string[];
  /**
   * What the caller may do on the control plane (CARTO's `permissions` claim), from the role of
   * the user the token acts for when it was issued; empty for API access tokens.
   */
  permissions: string[];
  /** API access tokens only: the token's id (its `jti`), the key of its grants. */
  apiTokenId?: string;
  /** API access tokens only: the subject of the OAuth token that created it. */
  createdBy?: string;
  /** API access tokens only: what the creator's role allows now, when known. */
  creatorPermissions?: string[];
}

/** Who may still act (the identity directory). */
interface Directory {
  admit(principal: Principal): Promise<Principal>;
  /** Whether `admit` would admit the principal as it is, without a lookup. */
  mayAct(principal: Principal): boolean;
}

/** A token that verified, and until when it may be taken as verified. */
interface VerifiedToken {
  principal: Principal;
  expiresAtMs: number;
}

/**
 * How long a verified token is taken as verified without checking its signature again. Short,
 * so a change of the verification keys reaches every token within a minute.
 */
const VERIFIED_TOKEN_TTL_MS = 60_000;

/** Signs access tokens and verifies the bearer tokens of API requests. */
export class TokenService {
  /**
   * Tokens that verified, keyed by a SHA-256 of issuer and token: an RS256 check costs about
   * half a millisecond of CPU, paid on every request otherwise (a map view asks for dozens of
   * tiles with one token). Expiry is checked again on every use; failures are never cached.
   */
  private readonly verified = new LRUCache<string, VerifiedToken>({
    max: 10_000,
    ttl: VERIFIED_TOKEN_TTL_MS,
  });

  /**
   * Verifies API access tokens (HS256 JWTs with a `jti`, see src/tokens/); without one, such
   * tokens are refused like any token that does not verify.
   */
  private apiTokenVerifier: ApiTokenVerifier | undefined;

  constructor(
    private keys: SigningKeys,
    /** Read per call: the issuer URL is known only once the server listens (port 0). */
    private readonly issuer: () => string,
    private readonly ttlSeconds: number,
  ) {}

  useApiTokenVerifier(verifier: ApiTokenVerifier): void {
    this.apiTokenVerifier = verifier;
  }

  /** Who may still act; without it, a token that verifies is admitted as it is. */
  private directory: Directory | undefined;

  useIdentityDirectory(directory: Directory): void {
    this.directory = directory;
  }

  /** Starts verifying with a new key set (after a rotation, here or on another node). */
  replaceKeys(keys: SigningKeys): void {
    this.keys = keys;
    // A removed key must stop its tokens at once, remembered or not.
    this.verified.clear();
  }

  /**
   * Called when a token names a key this node does not know, which happens right after
   * another node rotated the keys; answers whether the key set changed.
   */
  onUnknownKey: (() => Promise<boolean>) | undefined;

  /**
   * Verifies signature, issuer, audience and expiry, and that whoever the token acts for may
   * still act; throws a 401 `ApiError` otherwise.
   */
  async verify(token: string): Promise<Principal> {
    const principal = await this.verifySignatureAndClaims(token);
    return this.directory ? this.directory.admit(principal) : principal;
  }

  /**
   * The account of an OAuth token this node verified lately and may still take as verified,
   * whose subject the identity directory, as it stands now, lets act; undefined whenever only
   * `verify` can answer (a token not remembered or expired, an API access token, a subject the
   * directory would have to look up, or one it refuses: `verify` then gives the error).
   */
  peekAccount(token: string): string | undefined {
    const known = this.verified.get(this.cacheKeyOf(this.issuer(), token));
    if (!known || Date.now() >= known.expiresAtMs) return undefined;
    if (this.directory && !this.directory.mayAct(known.principal)) return undefined;
    return known.principal.accountId;
  }

  private cacheKeyOf(issuer: string, token: string): string {
    return createHash('sha256').update(issuer).update('\0').update(token).digest('base64');
  }

  private async verifySignatureAndClaims(token: string): Promise<Principal> {
    if (this.apiTokenVerifier && headerAlgorithm(token) === API_TOKEN_ALG) {
      return this.apiTokenVerifier.verify(token);
    }
    const issuer = this.issuer();
    const key = this.cacheKeyOf(issuer, token);
    const known = this.verified.get(key);
    if (known && Date.now() < known.expiresAtMs) return copyOf(known.principal);
    const verified = await this.verifySignedToken(token, issuer);
    const msLeft = verified.expiresAtMs - Date.now();
    if (msLeft > 0) {
      this.verified.set(key, verified, { ttl: Math.min(VERIFIED_TOKEN_TTL_MS, msLeft) });
    }
    return copyOf(verified.principal);
  }

  private async verifySignedToken(
    token: string,
    issuer: string,
    retried = false,
  ): Promise<VerifiedToken> {
    try {
      const payload = (await this.verifierFor(issuer)(token)) as Record<string, unknown>;
      const accountId = payload[ACCOUNT_ID_CLAIM];
      if (typeof accountId !== 'string' || typeof payload.sub !== 'string') {
        throw errors.tokenInvalid('the token has no account');
      }
      const principal: Principal = {
        kind: payload.gty === 'client-credentials' ? 'machine' : 'user',
        subject: payload.sub,
        accountId,
        clientId:
          typeof payload.azp === 'string'
            ? payload.azp
            : typeof payload.client_id === 'string'
              ? payload.client_id
              : '',
        scope: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
        permissions: Array.isArray(payload.permissions)
          ? payload.permissions.filter((p): p is string => typeof p === 'string')
          : [],
      };
      // A token without `exp` is not remembered (0): it is checked in full on every use.
      return { principal, expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : 0 };
    } catch (error) {
      if (error instanceof UnknownKeyError && !retried && this.onUnknownKey) {
        if (await this.onUnknownKey()) return this.verifySignedToken(token, issuer, true);
      }
      if (error instanceof UnknownKeyError) {
        throw errors.tokenInvalid('the token names no key this server signs with');
      }
      if (!(error instanceof TokenError)) throw error;
      if (error.code === TokenError.codes.expired) {
        throw errors.tokenInvalid('the token has expired');
      }
      if (error.code === TokenError.codes.inactive) {
        throw errors.tokenInvalid("claim 'nbf' is not acceptable");
      }
      if (error.code === TokenError.codes.invalidClaimValue) {
        const claim = /\b(iss|aud|sub|jti|nonce)\b/.exec(error.message)?.[1] ?? 'a claim';
        throw errors.tokenInvalid(`claim '${claim}' is not acceptable`);
      }
      throw errors.tokenInvalid('the token is malformed or its signature does not verify');
    }
  }

  /**
   * A verifier of RS256 tokens from `issuer` for the API, made once per issuer and key set.
   * fast-jwt checks signatures with node:crypto directly, several times faster than through
   * WebCrypto; the algorithm is pinned, so unsigned and HMAC tokens never verify.
   */
  private verifierFor(issuer: string): (token: string) => Promise<unknown> {
    if (this.verifier?.issuer === issuer && this.verifier.keys === this.keys) {
      return this.verifier.verify;
    }
    // One verifier per key: fast-jwt prepares a static key once, a key callback on every use.
    const byKid = new Map<string, (token: string) => unknown>();
    for (const jwk of this.keys.jwks.keys) {
      if (typeof jwk.kid !== 'string') continue;
      const key = createPublicKey({ key: jwk as JsonWebKeyInput['key'], format: 'jwk' });
      const pem = key.export({ type: 'spki', format: 'pem' }).toString();
      byKid.set(
        jwk.kid,
        createVerifier({
          algorithms: [SIGNING_ALG],
          allowedIss: issuer,
          allowedAud: API_AUDIENCE,
          cache: false,
          key: pem,
        }),
      );
    }
    const wrapped = async (token: string) => {
      const kid = protectedHeader(token)?.kid;
      const verify = typeof kid === 'string' ? byKid.get(kid) : undefined;
      if (!verify) throw new UnknownKeyError();
      return verify(token);
    };
    this.verifier = { issuer, keys: this.keys, verify: wrapped };
    return wrapped;
  }

  private verifier:
    { issuer: string; keys: SigningKeys; verify: (token: string) => Promise<unknown> } | undefined;
}

/** A token names a signing key this node does not know (yet). */
class UnknownKeyError extends Error {
  override readonly name = 'UnknownKeyError';
}

/** The signing algorithm of API access tokens (OAuth access tokens are RS256). */
export const API_TOKEN_ALG = 'HS256';

/** Checks API access tokens: signature, expiry, and that the token still exists. */
export interface ApiTokenVerifier {
  /** Throws a 401 `ApiError` for a token that does not verify, expired or was deleted. */
  verify(token: string): Promise<Principal>;
}

/** A compact JWS's protected header, or undefined when the token is not one. */
function protectedHeader(token: string): { alg?: unknown; kid?: unknown } | undefined {
  try {
    return decodeProtectedHeader(token) as { alg?: unknown; kid?: unknown };
  } catch {
    return undefined;
  }
}

/** The `alg` of a compact JWS's protected header, or undefined when it is not one. */
function headerAlgorithm(token: string): string | undefined {
  const alg = protectedHeader(token)?.alg;
  return typeof alg === 'string' ? alg : undefined;
}

/** A principal the caller may change without changing the remembered one. */
function copyOf(principal: Principal): Principal {
  return {
    ...principal,
    scope: [...principal.scope],
    permissions: [...principal.permissions],
    ...(principal.creatorPermissions && { creatorPermissions: [...principal.creatorPermissions] }),
  };
}
