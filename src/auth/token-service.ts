import { randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { errors } from '../http/errors.js';
import { SIGNING_ALG, type SigningKeys } from './signing-keys.js';

/** The audience CARTO's clients ask for and its API expects. */
export const API_AUDIENCE = 'carto-cloud-native-api';
/** CARTO puts its own claims under this namespace (http, not https). */
export const CLAIM_NAMESPACE = 'http://app.carto.com/';
export const ACCOUNT_ID_CLAIM = `${CLAIM_NAMESPACE}account_id`;
export const EMAIL_CLAIM = `${CLAIM_NAMESPACE}email`;

/** Who a verified token speaks for. */
export interface Principal {
  subject: string;
  accountId: string;
  clientId: string;
  scope: string[];
}

export interface IssueTokenInput {
  clientId: string;
  accountId: string;
  ownerEmail: string;
  scope: string[];
  permissions: string[];
}

export interface IssuedToken {
  accessToken: string;
  expiresInSeconds: number;
}

/** Signs access tokens and verifies the bearer tokens of API requests. */
export class TokenService {
  constructor(
    private readonly keys: SigningKeys,
    /** Read per call: the issuer URL is known only once the server listens (port 0). */
    private readonly issuer: () => string,
    private readonly ttlSeconds: number,
  ) {}

  /** Issues a machine-to-machine access token for a client (`sub` is `<client_id>@clients`). */
  async issueClientCredentialsToken(input: IssueTokenInput): Promise<IssuedToken> {
    const accessToken = await new SignJWT({
      [ACCOUNT_ID_CLAIM]: input.accountId,
      [EMAIL_CLAIM]: input.ownerEmail,
      azp: input.clientId,
      scope: input.scope.join(' '),
      permissions: input.permissions,
      gty: 'client-credentials',
    })
      .setProtectedHeader({ alg: SIGNING_ALG, typ: 'JWT', kid: this.keys.current.kid })
      .setIssuer(this.issuer())
      .setSubject(`${input.clientId}@clients`)
      .setAudience([API_AUDIENCE])
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .setJti(randomUUID())
      .sign(this.keys.current.privateKey);
    return { accessToken, expiresInSeconds: this.ttlSeconds };
  }

  get jwks() {
    return this.keys.jwks;
  }

  /** Verifies signature, issuer, audience and expiry; throws a 401 `ApiError` otherwise. */
  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.keys.verificationKeys, {
        issuer: this.issuer(),
        audience: API_AUDIENCE,
        algorithms: [SIGNING_ALG],
      });
      const accountId = payload[ACCOUNT_ID_CLAIM];
      if (typeof accountId !== 'string' || typeof payload.sub !== 'string') {
        throw errors.tokenInvalid('the token has no account');
      }
      return {
        subject: payload.sub,
        accountId,
        clientId: typeof payload.azp === 'string' ? payload.azp : '',
        scope: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
      };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        throw errors.tokenInvalid('the token has expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        throw errors.tokenInvalid(`claim '${error.claim}' is not acceptable`);
      }
      if (error instanceof joseErrors.JOSEError) {
        throw errors.tokenInvalid('the token is malformed or its signature does not verify');
      }
      throw error;
    }
  }
}
