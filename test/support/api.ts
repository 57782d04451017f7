import { inject } from 'vitest';

/** The shared test server's base URL and credentials. */
export function sharedServer() {
  return {
    baseUrl: inject('baseUrl'),
    clientId: inject('clientId'),
    clientSecret: inject('clientSecret'),
  };
}

/** Fetches an access token from the token endpoint with client_secret_post. */
export async function fetchToken(
  baseUrl: string,
  clientId: string,
  clientSecret: string,
): Promise<string> {
  const response = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      audience: 'carto-cloud-native-api',
    }),
  });
  if (!response.ok) throw new Error(`token request failed: ${response.status}`);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}
