import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApplicationStore } from '../apps/application-store.js';
import { permissionsForRole } from './permissions.js';
import { VerifiedSecretCache } from './verified-secret-cache.js';
import { API_AUDIENCE, type TokenService } from './token-service.js';

/** Scopes a machine-to-machine token may carry; the whole set when none is asked for. */
export const M2M_SCOPES = [
  'read:connections',
  'write:connections',
  'read:maps',
  'write:maps',
  'read:tokens',
  'write:tokens',
  'read:imports',
  'write:imports',
] as const;

interface OAuthErrorBody {
  error: string;
  error_description: string;
}

function sendOAuthError(
  reply: FastifyReply,
  status: number,
  error: string,
  description: string,
  challenge = false,
): FastifyReply {
  if (challenge) reply.header('WWW-Authenticate', 'Basic realm="graticule", charset="UTF-8"');
  const body: OAuthErrorBody = { error, error_description: description };
  return reply.code(status).header('Cache-Control', 'no-store').send(body);
}

/** Reads HTTP Basic client credentials; each part is form-urlencoded per RFC 6749 §2.3.1. */
function parseBasicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const match = header?.match(/^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    const unescape = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
    return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

function readField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' ? value : undefined;
}

/** A well-formed hash no secret matches, verified in place of an unknown client's. */
const UNKNOWN_CLIENT_HASH = `scrypt$16384$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}`;

/** RFC 6749 §3.2: request parameters must not be included more than once. */
function findRepeatedField(body: Record<string, unknown>): string | undefined {
  return Object.keys(body).find((key) => Array.isArray(body[key]));
}

export interface OAuthDependencies {
  applications: ApplicationStore;
  tokens: TokenService;
  issuer: () => string;
}

/** The OAuth 2 token endpoint and the discovery documents that describe it. */
export function registerOAuthRoutes(app: FastifyInstance, deps: OAuthDependencies): void {
  const secrets = new VerifiedSecretCache();
  const discovery = () => {
    const issuer = deps.issuer();
    const base = issuer.replace(/\/$/, '');
    return {
      issuer,
      token_endpoint: `${base}/oauth/token`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256'],
      scopes_supported: [...M2M_SCOPES],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['iss', 'sub', 'aud', 'iat', 'exp', 'azp', 'scope'],
    };
  };
  app.get('/.well-known/openid-configuration', async () => discovery());
  app.get('/.well-known/oauth-authorization-server', async () => discovery());
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('Cache-Control', 'public, max-age=300');
    return deps.tokens.jwks;
  });

  app.post('/oauth/token', async (request, reply) => {
    const body =
      request.body && typeof request.body === 'object'
        ? (request.body as Record<string, unknown>)
        : {};
    const basic = parseBasicCredentials(request.headers.authorization);
    const bodyId = readField(body, 'client_id');
    const bodySecret = readField(body, 'client_secret');

    const repeated = findRepeatedField(body);
    if (repeated !== undefined) {
      return sendOAuthError(reply, 400, 'invalid_request', `Parameter '${repeated}' is repeated`);
    }
    if (request.headers.authorization && !basic) {
      return sendOAuthError(
        reply,
        401,
        'invalid_client',
        'Authenticate the client with HTTP Basic or with client_id and client_secret',
        true,
      );
    }
    if (basic && bodySecret !== undefined) {
      return sendOAuthError(
        reply,
        400,
        'invalid_request',
        'Use one client authentication method, not both Basic and client_secret',
      );
    }
    const grantType = readField(body, 'grant_type');
    if (!grantType) return sendOAuthError(reply, 400, 'invalid_request', 'Missing grant_type');
    if (grantType !== 'client_credentials') {
      return sendOAuthError(
        reply,
        400,
        'unsupported_grant_type',
        `Grant type '${grantType}' is not supported`,
      );
    }
    const clientId = basic?.id ?? bodyId;
    const clientSecret = basic?.secret ?? bodySecret;
    if (!clientId || clientSecret === undefined) {
      return sendOAuthError(reply, 401, 'invalid_client', 'Missing client credentials', !!basic);
    }
    if (basic && bodyId !== undefined && bodyId !== basic.id) {
      return sendOAuthError(reply, 400, 'invalid_request', 'client_id does not match Basic');
    }

    const application = await deps.applications.findByClientId(clientId);
    // Unknown clients cost one hash too, so timing does not tell which client ids exist.
    const isValid = await secrets.verify(
      clientSecret,
      application?.secretHash ?? UNKNOWN_CLIENT_HASH,
    );
    if (!application || !isValid) {
      request.log.warn({ clientId: clientId.slice(0, 64) }, 'client authentication failed');
      return sendOAuthError(reply, 401, 'invalid_client', 'Client authentication failed', !!basic);
    }
    if (application.app_type !== 'machine_to_machine') {
      return sendOAuthError(
        reply,
        400,
        'unauthorized_client',
        'Only Machine to Machine applications may use client_credentials',
      );
    }

    const audience = readField(body, 'audience') ?? API_AUDIENCE;
    if (audience !== API_AUDIENCE) {
      return sendOAuthError(reply, 400, 'invalid_target', `Unknown audience '${audience}'`);
    }
    const requested = (readField(body, 'scope') ?? '').split(' ').filter(Boolean);
    const unknownScope = requested.find(
      (scope) => !(M2M_SCOPES as readonly string[]).includes(scope),
    );
    if (unknownScope) {
      return sendOAuthError(reply, 400, 'invalid_scope', `Scope '${unknownScope}' is not allowed`);
    }
    const scope = requested.length > 0 ? requested : [...M2M_SCOPES];

    const owner = await deps.applications.findOwner(clientId);
    const issued = await deps.tokens.issueClientCredentialsToken({
      clientId,
      accountId: application.account_id,
      ownerEmail: owner?.email ?? '',
      scope,
      permissions: owner ? permissionsForRole(owner.role) : [],
    });
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    return {
      access_token: issued.accessToken,
      token_type: 'Bearer',
      expires_in: issued.expiresInSeconds,
      scope: scope.join(' '),
    };
  });
}
