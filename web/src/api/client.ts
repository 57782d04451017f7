/**
 * Calls to Graticule's API with the signed-in user's token. A refused token (401) ends the
 * session: the page's unsaved form values are saved and the browser signs in again, coming
 * back to the same page with them.
 */
import { readToken, startSignIn } from '../auth/oauth';
import { saveDrafts } from '../drafts';

/** The API's error answer, `{error, status, code}`, or a failure to reach it. */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';

  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A fresh token refused this soon after its sign-in is no expired session: no sign-in loop. */
const FRESH_SIGN_IN_MS = 15_000;

let signingIn: Promise<never> | null = null;

/** Saves the page's drafts and signs in again, back to this page. Never settles. */
export function renewSession(): Promise<never> {
  signingIn ??= (() => {
    saveDrafts();
    return startSignIn(`${location.pathname}${location.search}`);
  })();
  return signingIn;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

async function readError(response: Response): Promise<ApiRequestError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof body.error === 'string') {
      const code = typeof body.code === 'string' ? body.code : undefined;
      return new ApiRequestError(body.error, response.status, code);
    }
  } catch {
    // Not the API's JSON error: say what the status was.
  }
  const detail = text && text.length < 200 ? `: ${text}` : '';
  return new ApiRequestError(`The server answered ${response.status}${detail}`, response.status);
}

/** `path`'s JSON answer (undefined for 204), or an `ApiRequestError` with the API's message. */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const token = readToken();
  if (!token || token.expiresAt <= Date.now()) return renewSession();
  const headers: Record<string, string> = { Authorization: `Bearer ${token.accessToken}` };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
      cache: 'no-store',
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiRequestError('Cannot reach the server; check the connection and retry', 0);
  }
  if (response.status === 401) {
    const refused = await readError(response);
    if (Date.now() - token.signedInAt < FRESH_SIGN_IN_MS) throw refused;
    return renewSession();
  }
  if (!response.ok) throw await readError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** What an error says, for a message on the page. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Whether the error is a request cancelled on purpose (the page moved on). */
export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
