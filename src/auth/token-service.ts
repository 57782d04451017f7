import { LRUCache } from 'lru-cache';
import { errors } from '../http/errors.js';
import {
  TokenRejectedError,
  createTokenVerifier,
  readProtectedHeader,
  type ProtectedHeader,
  type SigningKeys,
  type TokenRejection,
  type TokenVerifier,
} from './signing-keys.js';

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

/** Decides whether whoever a verified token acts for may still act (the identity directory). */
export interface PrincipalAdmission {
  /** The principal as admitted now, at once when the subject is known; 401 `ApiError` if not. */
  admit(principal: Principal): Principal | Promise<Principal>;
  /** Whether `admit` would admit the principal as it is, without a lookup. */
  mayAct(principal: Principal): boolean;
}

/** A token that verified, and until when it may be taken as verified. */
interface VerifiedToken {
  /** The token itself: an entry answers this token only. */
  token: string;
  principal: Principal;
  /** The issuer it verified for; it is taken as verified for that issuer only. */
  issuer: string;
  /** The earlier of its `exp` and `VERIFIED_TOKEN_TTL_MS` after it verified. */
  validUntilMs: number;
}

/**
 * How long a verified token is taken as verified without checking its signature again. Short,
 * so a change of the verification keys reaches every token within a minute.
 */
const VERIFIED_TOKEN_TTL_MS = 60_000;
/** Verified tokens remembered at most: about 30 MB, tokens and principals. */
const MAX_VERIFIED_TOKENS = 10_000;

/** Signs access tokens and verifies the bearer tokens of API requests. */
export class TokenService {
  /**
   * Tokens that verified, by their signature segment: an RS256 check costs about 30 µs of CPU
   * even with node:crypto, paid on every request otherwise (a map view asks for dozens of tiles
   * with one token). Expiry is checked again on every use; failures are never cached.
   *
   * Why this key cannot let a token through unverified: the signature segment only finds an
   * entry, and the entry answers only a token equal, character for character, to the one that
   * verified (compared in full on every hit), for the same issuer (checked too) and key set (a
   * new set empties the cache). A token sharing a verified token's signature segment but not
   * its header or payload is checked in full, and fails, since an RS256 signature covers both.
   * The segment is a cheap key: shorter than the token to hash, no digest to compute per
   * request, and as unique as signatures are. Keeping the tokens themselves (bounded, for a
   * minute at most) exposes nothing new: the same process holds the private signing keys.
   */
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: MAX_VERIFIED_TOKENS });

  /**
   * Verifies API access tokens (HS256 JWTs with a `jti`, see src/tokens/); without one, such
   * tokens are refused like any token that does not verify.
   */
  private apiTokenVerifier: ApiTokenVerifier | undefined;

  constructor(
    private keys: SigningKeys,
    /** Read per call: the issuer URL is known only once the server listens (port 0). */
    private readonly issuer: () => string,
  ) {}

  useApiTokenVerifier(verifier: ApiTokenVerifier): void {
    this.apiTokenVerifier = verifier;
  }

  /** Who may still act; without it, a token that verifies is admitted as it is. */
  private directory: PrincipalAdmission | undefined;

  useIdentityDirectory(directory: PrincipalAdmission): void {
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
    const header = readProtectedHeader(token);
    let principal: Principal;
    if (this.apiTokenVerifier && header?.alg === API_TOKEN_ALG) {
      principal = await this.apiTokenVerifier.verify(token);
    } else {
      const signature = token.slice(token.lastIndexOf('.') + 1);
      const known = this.remembered(token, signature);
      principal = known
        ? copyOf(known.principal)
        : await this.verifyOAuthToken(token, header, signature);
    }
    return this.directory ? this.directory.admit(principal) : principal;
  }

  /**
   * The account of an OAuth token this node verified lately and may still take as verified,
   * whose subject the identity directory, as it stands now, lets act; undefined whenever only
   * `verify` can answer (a token not remembered or expired, an API access token, a subject the
   * directory would have to look up, or one it refuses: `verify` then gives the error).
   */
  peekAccount(token: string): string | undefined {
    const known = this.remembered(token, token.slice(token.lastIndexOf('.') + 1));
    if (!known) return undefined;
    if (this.directory && !this.directory.mayAct(known.principal)) return undefined;
    return known.principal.accountId;
  }

  /** This very token's entry, if it verified lately and may still be taken as verified. */
  private remembered(token: string, signature: string): VerifiedToken | undefined {
    const known = this.verified.get(signature);
    if (known?.token !== token) return undefined;
    if (Date.now() >= known.validUntilMs || known.issuer !== this.issuer()) {
      this.verified.delete(signature);
      return undefined;
    }
    return known;
  }

  /** Checks an RS256 token in full; one naming an unknown key makes it look for new keys. */
  private async verifyOAuthToken(
    token: string,
    header: ProtectedHeader | undefined,
    signature: string,
  ): Promise<Principal> {
    let verified: VerifiedToken;
    try {
      verified = this.verifySignedToken(token, header);
    } catch (error) {
      const hasNewKeys = isRejected(error, 'unknown_key') && (await this.onUnknownKey?.());
      if (!hasNewKeys) throw asTokenInvalid(error);
      try {
        verified = this.verifySignedToken(token, header);
      } catch (retryError) {
        throw asTokenInvalid(retryError);
      }
    }
    if (verified.validUntilMs > Date.now()) this.verified.set(signature, verified);
    return copyOf(verified.principal);
  }

  /**
   * Signature, algorithm, key, issuer, audience, `exp` and `nbf`, that it is an access token,
   * then the principal.
   */
  private verifySignedToken(token: string, header: ProtectedHeader | undefined): VerifiedToken {
    const issuer = this.issuer();
    const payload = this.verifierFor(issuer)(token, header);
    // The OAuth server signs its ID tokens with the same keys, and an application whose client
    // id equals the API audience would get ID tokens that pass every check above.
    if (!isAccessTokenType(header?.typ)) {
      throw errors.tokenInvalid(`the token is not an access token (its 'typ' is not 'at+jwt')`);
    }
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
    const validUntilMs =
      typeof payload.exp === 'number'
        ? Math.min(payload.exp * 1000, Date.now() + VERIFIED_TOKEN_TTL_MS)
        : 0;
    return { token, principal, issuer, validUntilMs };
  }

  /** The verifier of RS256 tokens from `issuer` for the API, made once per issuer and key set. */
  private verifierFor(issuer: string): TokenVerifier {
    if (this.verifier?.issuer === issuer && this.verifier.keys === this.keys) {
      return this.verifier.verify;
    }
    const verify = createTokenVerifier(this.keys, { issuer, audience: API_AUDIENCE });
    this.verifier = { issuer, keys: this.keys, verify };
    return verify;
  }

  private verifier: { issuer: string; keys: SigningKeys; verify: TokenVerifier } | undefined;
}

/** The `typ` of JWT access tokens (RFC 9068 §2.1), which the OAuth server puts on them. */
const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Whether a header's `typ` names an access token; media types compare without case. */
function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const type = typ.toLowerCase();
  return type === ACCESS_TOKEN_TYPE || type === `application/${ACCESS_TOKEN_TYPE}`;
}

function isRejected(error: unknown, reason: TokenRejection): boolean {
  return error instanceof TokenRejectedError && error.reason === reason;
}

/** What a 401 says for each reason a token is refused. */
const REJECTION_MESSAGES: Record<TokenRejection, string> = {
  malformed: 'the token is malformed or its signature does not verify',
  signature: 'the token is malformed or its signature does not verify',
  unknown_key: 'the token names no key this server signs with',
  expired: 'the token has expired',
  not_yet_valid: "claim 'nbf' is not acceptable",
  iss: "claim 'iss' is not acceptable",
  aud: "claim 'aud' is not acceptable",
};

/** The 401 `ApiError` for a refused token; errors of any other kind pass unchanged. */
function asTokenInvalid(error: unknown): unknown {
  if (!(error instanceof TokenRejectedError)) return error;
  return errors.tokenInvalid(REJECTION_MESSAGES[error.reason]);
}

/** The signing algorithm of API access tokens (OAuth access tokens are RS256). */
export const API_TOKEN_ALG = 'HS256';

/** Checks API access tokens: signature, expiry, and that the token still exists. */
export interface ApiTokenVerifier {
  /** Throws a 401 `ApiError` for a token that does not verify, expired or was deleted. */
  verify(token: string): Promise<Principal>;
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
