import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { matchesIfNoneMatch } from './cache-control.js';

const request = (ifNoneMatch?: string) =>
  ({
    headers: ifNoneMatch === undefined ? {} : { 'if-none-match': ifNoneMatch },
  }) as FastifyRequest;

describe('matchesIfNoneMatch', () => {
  it('compares entity tags weakly, in lists and with the wildcard', () => {
    expect(matchesIfNoneMatch(request('"a"'), '"a"')).toBe(true);
    expect(matchesIfNoneMatch(request('W/"a"'), '"a"')).toBe(true);
    expect(matchesIfNoneMatch(request('"a"'), 'W/"a"')).toBe(true);
    expect(matchesIfNoneMatch(request('"x" ,  W/"a"'), '"a"')).toBe(true);
    expect(matchesIfNoneMatch(request('*'), '"a"')).toBe(true);
  });

  it('does not match other tags, a missing header or a tag without quotes', () => {
    expect(matchesIfNoneMatch(request(), '"a"')).toBe(false);
    expect(matchesIfNoneMatch(request(''), '"a"')).toBe(false);
    expect(matchesIfNoneMatch(request('"b", "c"'), '"a"')).toBe(false);
    expect(matchesIfNoneMatch(request('a'), '"a"')).toBe(false);
  });
});
