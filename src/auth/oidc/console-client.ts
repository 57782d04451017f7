import type { ClientMetadata } from 'oidc-provider';

/** The client id of Graticule's own web console, a single-page app signing users in. */
export const CONSOLE_CLIENT_ID = 'graticule-console';

/** Where the console lives, below the server's public address. */
export const CONSOLE_PATH = '/ui';

/**
 * The web console as the OAuth server sees it: a public client (PKCE, no secret) that may
 * return only to the console on this server's own address. It belongs to no account: whoever
 * signs in gets a token for their own account and role.
 */
export function consoleClientMetadata(issuer: string): ClientMetadata {
  const base = `${issuer.replace(/\/+$/, '')}${CONSOLE_PATH}`;
  return {
    client_id: CONSOLE_CLIENT_ID,
    client_name: 'Graticule console',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [`${base}/callback`],
    post_logout_redirect_uris: [`${base}/`],
  };
}
