import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** What `POST /v3/applications` answers. */
export interface CreatedApplication {
  client_id: string;
  client_secret?: string;
  type: string;
  token_endpoint_auth_method: string;
  callback_urls: string[];
  logout_urls: string[];
  web_origins: string[];
}

async function post<T>(baseUrl: string, token: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  expect(response.status, `${path}: ${text}`).toBe(201);
  return JSON.parse(text) as T;
}

/** Registers an application through the Applications API. */
export function createApplication(
  baseUrl: string,
  token: string,
  body: Record<string, unknown>,
): Promise<CreatedApplication> {
  return post(baseUrl, token, '/v3/applications', body);
}

/** Adds a user with a password to the caller's account through the users API. */
export function createUser(
  baseUrl: string,
  token: string,
  body: { email: string; name: string; role: 'admin' | 'editor' | 'viewer'; password: string },
): Promise<{ id: string; email: string }> {
  return post(baseUrl, token, '/v3/account/users', body);
}

/** Fills in and submits Graticule's sign-in page, which `page` shows. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A unique e-mail address for a test user. */
export function uniqueEmail(prefix: string): string {
  const unique = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return `${prefix}-${unique}@example.test`;
}

/** An API answer as the identity tests read it; `body` is null unless the answer is JSON. */
export interface ApiReply {
  status: number;
  text: string;
  body: any;
  headers: Headers;
}

/**
 * One request to `route` with a bearer token (none when `token` is empty) and, when given, a
 * body: JSON unless it is a string sent as `contentType`.
 */
export async function callApi(
  baseUrl: string,
  token: string,
  method: string,
  route: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<ApiReply> {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': contentType }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const isJson = /json/i.test(response.headers.get('content-type') ?? '');
  return {
    status: response.status,
    text,
    body: text && isJson ? JSON.parse(text) : null,
    headers: response.headers,
  };
}
