import { randomBytes } from 'node:crypto';
import Provider, {
  errors as oidcErrors,
  type Configuration,
  type JWK,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import type { ApplicationStore } from '../../apps/application-store.js';
import type { Store } from '../../store/store.js';
import { permissionsForRole } from '../permissions.js';
import { ACCOUNT_ID_CLAIM, API_AUDIENCE, EMAIL_CLAIM } from '../token-service.js';
import { VerifiedSecretCache } from '../verified-secret-cache.js';
import { consoleClientMetadata } from './console-client.js';
import { WEB_ORIGINS_METADATA, storeAdapter } from './store-adapter.js';
import { logoutPage, signedOutPage, oauthErrorPage } from './pages.js';

/**
 * The resource indicator of the API. CARTO's clients name it with Auth0's `audience`
 * parameter (`carto-cloud-native-api`); the OAuth server knows resources by absolute URI.
 */
export const API_RESOURCE = `urn:${API_AUDIENCE}`;

/** Scopes CARTO's clients ask for on the API; tokens carry the ones granted. */
export const API_SCOPES = [
  'read:current_user',
  'update:current_user',
  'read:connections',
  'write:connections',
  'read:maps',
  'write:maps',
  'read:account',
  'admin:account',
  'read:tokens',
  'write:tokens',
  'read:imports',
  'write:imports',
  'read:apps',
  'write:apps',
  'read:tilesets',
];

/** Where the login page for an interaction lives. */
export const loginPath = (uid: string) => `/login/${encodeURIComponent(uid)}`;

export interface OAuthServerOptions {
  store: Store;
  applications: ApplicationStore;
  issuer: string;
  /** Private signing keys, the one signing new tokens first. */
  signingKeys: JWK[];
  /** Keys signing the server's cookies (newest first). */
  cookieKeys: string[];
  accessTokenTtlSeconds: number;
  /** Whether `X-Forwarded-*` headers are believed (behind a trusted proxy). */
  trustProxy: boolean;
}

interface UserRow {
  id: string;
  account_id: string;
  email: string;
  name: string;
  role: 'admin' | 'editor' | 'viewer';
  disabled_at: string | null;
}

async function findUser(store: Store, id: string): Promise<UserRow | undefined> {
  return store
    .selectFrom('users')
    .select(['id', 'account_id', 'email', 'name', 'role', 'disabled_at'])
    .where('id', '=', id)
    .executeTakeFirst();
}

function webOriginsOf(client: { metadata(): Record<string, unknown> }): string[] {
  const value = client.metadata()[WEB_ORIGINS_METADATA];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The origin of a URL, or undefined for one that does not parse. */
function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * Builds the OAuth 2 / OpenID Connect server (oidc-provider): authorization code with PKCE for
 * single-page apps, code with a secret for regular web apps, client credentials for machines,
 * userinfo, logout, discovery and JWKS. Paths follow Auth0's, which CARTO's clients use.
 */
export function createOAuthServer(options: OAuthServerOptions): Provider {
  const { store, applications } = options;
  const secrets = new VerifiedSecretCache();

  const issuerOrigin = new URL(options.issuer).origin;
  const configuration: Configuration = {
    adapter: storeAdapter(store, applications, [consoleClientMetadata(options.issuer)]),
    jwks: { keys: options.signingKeys },
    cookies: { keys: options.cookieKeys },
    routes: {
      authorization: '/authorize',
      token: '/oauth/token',
      userinfo: '/userinfo',
      jwks: '/.well-known/jwks.json',
      end_session: '/oidc/logout',
      revocation: '/oauth/revoke',
    },
    // No `offline_access`: no refresh tokens; single-page apps renew silently instead.
    scopes: ['openid', 'profile', 'email'],
    claims: {
      // CARTO's own claims come with `openid`, as its Auth0 rules add them to every ID token.
      openid: ['sub', ACCOUNT_ID_CLAIM, EMAIL_CLAIM],
      profile: ['name'],
      email: ['email', 'email_verified'],
    },
    extraParams: {
      // Auth0's name for the resource; anything but the API is refused.
      audience(_ctx, value) {
        if (value && value !== API_AUDIENCE) {
          throw new oidcErrors.InvalidTarget(`unknown audience '${value}'`);
        }
      },
      organization: null,
      auth0Client: null,
    },
    clientAuthMethods: ['client_secret_post', 'client_secret_basic', 'none'],
    // As Auth0's, ID tokens carry the claims of the scopes granted (SPAs read the user from it).
    conformIdTokenClaims: false,
    // Code flows only: no implicit or hybrid responses put tokens in URLs.
    responseTypes: ['code', 'none'],
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256'],
      userinfoSigningAlgValues: ['RS256'],
      introspectionSigningAlgValues: ['RS256'],
      authorizationSigningAlgValues: ['RS256'],
      requestObjectSigningAlgValues: ['RS256'],
    },
    pkce: {
      // Public clients must prove possession of the verifier; confidential ones may.
      required: (_ctx, client) => client.clientAuthMethod === 'none',
    },
    ttl: {
      AccessToken: options.accessTokenTtlSeconds,
      ClientCredentials: options.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 15 * 60,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    features: {
      devInteractions: { enabled: false },
      // Pushed authorization requests are not routed (no CARTO client sends them): not offered.
      pushedAuthorizationRequests: { enabled: false },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      revocation: { enabled: true },
      webMessageResponseMode: { enabled: true, ack: 'individual-draft-01' },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = logoutPage(form);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = signedOutPage();
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (resourceIndicator !== API_RESOURCE) {
            throw new oidcErrors.InvalidTarget(`unknown resource '${resourceIndicator}'`);
          }
          return {
            scope: API_SCOPES.join(' '),
            audience: API_AUDIENCE,
            accessTokenTTL: options.accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    extraClientMetadata: {
      properties: [WEB_ORIGINS_METADATA],
      validator(_ctx, key, value) {
        if (key !== WEB_ORIGINS_METADATA) return;
        if (value !== undefined && !Array.isArray(value)) {
          throw new oidcErrors.InvalidClientMetadata(`${WEB_ORIGINS_METADATA} must be a list`);
        }
      },
    },
    clientBasedCORS(_ctx, origin, client) {
      if (origin === 'null') return false;
      // Graticule's own pages (the API reference's "Authorize", the console) are no other site.
      if (origin === issuerOrigin) return true;
      if (webOriginsOf(client).includes(origin)) return true;
      return client.redirectUris?.some((uri) => originOf(uri) === origin) ?? false;
    },
    interactions: { url: (_ctx, interaction) => loginPath(interaction.uid) },
    // Every application belongs to the account it serves: no consent screen, the grant covers
    // what was asked for.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const session = ctx.oidc.session;
      const client = ctx.oidc.client;
      if (!session?.accountId || !client) return undefined;
      const grant = new ctx.oidc.provider.Grant({
        clientId: client.clientId,
        accountId: session.accountId,
      });
      grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
      grant.addResourceScope(API_RESOURCE, API_SCOPES.join(' '));
      await grant.save();
      return grant;
    },
    async findAccount(ctx, sub) {
      const user = await findUser(store, sub);
      if (!user || user.disabled_at) {
        // A session of a user who may no longer sign in is a signed-out session: the next
        // request asks for a sign-in (or answers login_required to prompt=none).
        const session = ctx.oidc?.session;
        if (session?.accountId === sub) {
          // The session proxy refuses to set an empty account, but lets it be deleted.
          delete session.accountId;
          (session as unknown as { touched: boolean }).touched = true;
        }
        return undefined;
      }
      return {
        accountId: user.id,
        claims: async () => ({
          sub: user.id,
          email: user.email,
          email_verified: true,
          name: user.name,
          [ACCOUNT_ID_CLAIM]: user.account_id,
          [EMAIL_CLAIM]: user.email,
        }),
      };
    },
    async extraTokenClaims(_ctx, token) {
      if (token.kind === 'ClientCredentials') {
        const owner = await applications.findOwner(token.clientId ?? '');
        return {
          [ACCOUNT_ID_CLAIM]: owner?.accountId ?? '',
          [EMAIL_CLAIM]: owner?.email ?? '',
          azp: token.clientId,
          gty: 'client-credentials',
          permissions: owner ? permissionsForRole(owner.role) : [],
        };
      }
      const user = 'accountId' in token ? await findUser(store, String(token.accountId)) : null;
      if (!user) return undefined;
      return {
        [ACCOUNT_ID_CLAIM]: user.account_id,
        [EMAIL_CLAIM]: user.email,
        azp: token.clientId,
        permissions: permissionsForRole(user.role),
      };
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = oauthErrorPage(out.error, out.error_description);
    },
  };

  const provider = new Provider(options.issuer, configuration);
  provider.proxy = options.trustProxy;
  // Client secrets are stored as scrypt hashes: compare by hashing, never in clear.
  (
    provider.Client.prototype as unknown as {
      compareClientSecret(this: { clientSecret: string }, actual: string): Promise<boolean>;
    }
  ).compareClientSecret = function compareHashedSecret(actual: string) {
    return secrets.verify(actual, this.clientSecret);
  };
  return provider;
}

/** A new random key for signing the OAuth server's cookies. */
export function newCookieKey(): string {
  return randomBytes(32).toString('base64url');
}
