import { describe, expect, it } from 'vitest';
import { isRefererAllowed, refererMatches, refererProblem } from './referers.js';

describe('refererMatches', () => {
  it('matches an origin on any path of that origin only', () => {
    expect(refererMatches('https://app.example.com', 'https://app.example.com')).toBe(true);
    expect(refererMatches('https://app.example.com', 'https://app.example.com/a/b?c')).toBe(true);
    expect(refererMatches('https://app.example.com', 'http://app.example.com/')).toBe(false);
    expect(refererMatches('https://app.example.com', 'https://app.example.com:8443/')).toBe(false);
    expect(refererMatches('https://app.example.com', 'https://app.example.com.evil.io/')).toBe(
      false,
    );
  });

  it('matches URL prefixes on whole path segments', () => {
    const rule = 'https://example.com/maps';
    expect(refererMatches(rule, 'https://example.com/maps')).toBe(true);
    expect(refererMatches(rule, 'https://example.com/maps/world')).toBe(true);
    expect(refererMatches(rule, 'https://example.com/mapsx')).toBe(false);
    expect(refererMatches(rule, 'https://example.com/other/maps')).toBe(false);
    // An Origin header (or a referer cut to its origin) carries no path to compare.
    expect(refererMatches(rule, 'https://example.com')).toBe(true);
  });

  it('matches subdomains of a *. wildcard, not the bare domain look-alikes', () => {
    const rule = 'https://*.example.com';
    expect(refererMatches(rule, 'https://a.example.com/x')).toBe(true);
    expect(refererMatches(rule, 'https://a.b.example.com')).toBe(true);
    expect(refererMatches(rule, 'https://badexample.com')).toBe(false);
  });
});

describe('isRefererAllowed', () => {
  const referers = ['https://app.example.com/maps/'];

  it('allows anything when the token has no referers', () => {
    expect(isRefererAllowed([], {})).toBe(true);
  });

  it('needs an Origin or Referer, and every one sent must match', () => {
    expect(isRefererAllowed(referers, {})).toBe(false);
    expect(isRefererAllowed(referers, { origin: 'null' })).toBe(false);
    expect(isRefererAllowed(referers, { origin: 'https://app.example.com' })).toBe(true);
    expect(
      isRefererAllowed(referers, {
        origin: 'https://app.example.com',
        referer: 'https://app.example.com/maps/city.html',
      }),
    ).toBe(true);
    expect(
      isRefererAllowed(referers, {
        origin: 'https://app.example.com',
        referer: 'https://app.example.com/admin/',
      }),
    ).toBe(false);
    expect(isRefererAllowed(referers, { referer: 'https://evil.example.net/maps/' })).toBe(false);
  });
});

describe('refererProblem', () => {
  it('accepts origins, prefixes and leading wildcards; names what is wrong otherwise', () => {
    expect(refererProblem('https://app.example.com')).toBeUndefined();
    expect(refererProblem('http://localhost:3000/maps/')).toBeUndefined();
    expect(refererProblem('https://*.example.com')).toBeUndefined();
    expect(refererProblem('app.example.com')).toMatch(/absolute URL/);
    expect(refererProblem('ftp://example.com')).toMatch(/http/);
    expect(refererProblem('https://a.*.example.com')).toMatch(/wildcard/);
    expect(refererProblem('https://example.com/?a=1')).toMatch(/without/);
  });
});
