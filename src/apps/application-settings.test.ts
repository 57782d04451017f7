import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/errors.js';
import {
  applyApplicationChanges,
  readApplicationChanges,
  readNewApplication,
} from './application-settings.js';
import { checkOrigin, checkUrl } from './application-urls.js';

function refusal(run: () => unknown): { status: number; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('application URLs', () => {
  it('keeps https URLs and loopback http URLs as written', () => {
    expect(checkUrl('https://example.com/callback?x=1', 'u')).toBe(
      'https://example.com/callback?x=1',
    );
    for (const url of ['http://localhost:3000/cb', 'http://127.0.0.1/', 'http://[::1]:8080/x']) {
      expect(checkUrl(url, 'u')).toBe(url);
    }
  });

  it('refuses relative URLs, other schemes, fragments, credentials and remote http', () => {
    const cases: [string, RegExp][] = [
      ['/callback', /not an absolute URL/],
      ['ftp://example.com/', /only http and https/],
      ['javascript:alert(1)', /only http and https/],
      ['https://example.com/#x', /fragment/],
      ['https://user:pw@example.com/', /user name or password/],
      ['http://example.com/', /use https/],
      [' https://example.com/', /spaces/],
    ];
    for (const [url, reason] of cases) {
      const refused = refusal(() => checkUrl(url, 'callback_urls[0]'));
      expect(refused.status, url).toBe(400);
      expect(refused.message, url).toMatch(reason);
      expect(refused.message).toContain('callback_urls[0]');
    }
  });

  it('normalizes origins and refuses origins with a path or query', () => {
    expect(checkOrigin('https://Example.com:443', 'o')).toBe('https://example.com');
    expect(checkOrigin('https://example.com/', 'o')).toBe('https://example.com');
    expect(checkOrigin('http://localhost:5173', 'o')).toBe('http://localhost:5173');
    expect(refusal(() => checkOrigin('https://example.com/app', 'o')).message).toMatch(/no path/);
    expect(refusal(() => checkOrigin('https://example.com/?a', 'o')).message).toMatch(/no path/);
    expect(refusal(() => checkOrigin('http://example.com', 'o')).message).toMatch(/https/);
  });
});

describe('new applications', () => {
  it('derives the URL lists from the application URL when none are given', () => {
    const settings = readNewApplication({ name: 'Viewer', url: 'https://maps.example.com/app' });
    expect(settings).toMatchObject({
      type: 'single_page',
      tokenEndpointAuthMethod: 'none',
      loginUrl: 'https://maps.example.com/app',
      callbackUrls: ['https://maps.example.com/app'],
      logoutUrls: ['https://maps.example.com/app'],
      webOrigins: ['https://maps.example.com'],
      corsOrigins: ['https://maps.example.com'],
    });
  });

  it('keeps the lists that are given and derives only the missing ones', () => {
    const settings = readNewApplication({
      name: 'Web',
      type: 'regular_web',
      url: 'https://web.example.com',
      callback_urls: ['https://web.example.com/auth/callback'],
    });
    expect(settings.tokenEndpointAuthMethod).toBe('client_secret_post');
    expect(settings.callbackUrls).toEqual(['https://web.example.com/auth/callback']);
    expect(settings.logoutUrls).toEqual(['https://web.example.com']);
  });

  it("accepts CARTO's and Auth0's spellings of types and methods", () => {
    expect(readNewApplication({ name: 'a', type: 'Machine to Machine' }).type).toBe(
      'machine_to_machine',
    );
    expect(readNewApplication({ name: 'a', type: 'Single Page Application' }).type).toBe(
      'single_page',
    );
    expect(readNewApplication({ name: 'a', type: 'regular-web-application' }).type).toBe(
      'regular_web',
    );
    const basic = readNewApplication({
      name: 'a',
      type: 'm2m',
      token_endpoint_auth_method: 'Basic',
    });
    expect(basic.tokenEndpointAuthMethod).toBe('client_secret_basic');
  });

  it('refuses a missing name, unknown types and fields, and none for confidential apps', () => {
    expect(refusal(() => readNewApplication({ url: 'https://a.example' })).message).toMatch(
      /'name'/,
    );
    expect(refusal(() => readNewApplication({ name: 'a', type: 'native' })).message).toMatch(
      /one of single_page, regular_web, machine_to_machine/,
    );
    expect(refusal(() => readNewApplication({ name: 'a', secret: 'x' })).message).toMatch(
      /'secret': not a field/,
    );
    const none = refusal(() =>
      readNewApplication({
        name: 'a',
        type: 'machine_to_machine',
        token_endpoint_auth_method: 'none',
      }),
    );
    expect(none.message).toMatch(/'none' is only for single_page/);
    expect(refusal(() => readNewApplication({ name: ' ' })).message).toMatch(/empty/);
    expect(refusal(() => readNewApplication([])).status).toBe(400);
  });

  it('refuses names of Object.prototype as types, methods and fields with a 400', () => {
    for (const value of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const type = refusal(() => readNewApplication({ name: 'a', type: value }));
      expect(type.status, value).toBe(400);
      expect(type.message).toMatch(/'type': expected one of/);
      const method = refusal(() => readApplicationChanges({ token_endpoint_auth_method: value }));
      expect(method.status, value).toBe(400);
      expect(method.message).toMatch(/'token_endpoint_auth_method': expected one of/);
    }
    // A key named like an Object.prototype member is no field of an application either.
    const field = refusal(() => readNewApplication(JSON.parse('{"name":"a","constructor":"x"}')));
    expect(field.message).toMatch(/'constructor': not a field/);
  });
});

describe('changes', () => {
  const current = readNewApplication({ name: 'App', url: 'https://old.example.com/' });

  it('moves URL lists still at their defaults to a new URL, keeping edited ones', () => {
    const edited = { ...current, logoutUrls: ['https://old.example.com/bye'] };
    const next = applyApplicationChanges(
      edited,
      readApplicationChanges({ url: 'https://new.example.com/' }),
    );
    expect(next.callbackUrls).toEqual(['https://new.example.com/']);
    expect(next.webOrigins).toEqual(['https://new.example.com']);
    expect(next.logoutUrls).toEqual(['https://old.example.com/bye']);
  });

  it('asks for a secret method when a public client becomes a machine client', () => {
    const refused = refusal(() =>
      applyApplicationChanges(current, readApplicationChanges({ type: 'machine_to_machine' })),
    );
    expect(refused.message).toMatch(/client_secret_post or client_secret_basic/);
    const next = applyApplicationChanges(
      current,
      readApplicationChanges({
        type: 'machine_to_machine',
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    );
    expect(next.tokenEndpointAuthMethod).toBe('client_secret_basic');
  });

  it('refuses an empty change', () => {
    expect(refusal(() => readApplicationChanges({})).message).toMatch(/nothing to change/);
  });
});
