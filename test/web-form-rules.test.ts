/**
 * The web console's form checks: the URL, origin and referer rules are the API's own code, so
 * a value the console lets through is one the API takes, and the other way round.
 */
import { describe, expect, it } from 'vitest';
import { checkOrigin, checkUrl } from '../src/apps/application-urls.js';
import { refererProblem } from '../src/tokens/referers.js';
import {
  checkApplicationForm,
  emptyApplicationForm,
  originProblem,
  urlProblem,
} from '../web/src/pages/developers/application-rules.js';
import {
  checkTokenForm,
  emptyTokenForm,
  isQuerySource,
} from '../web/src/pages/developers/token-rules.js';

const URLS = [
  'https://app.example.com/callback',
  'http://localhost:3000/cb',
  'http://app.example.com/cb',
  'javascript:alert(1)',
  'https://user:pw@app.example.com/',
  'https://app.example.com/#frag',
  'not a url',
  'https://app.example.com/path?q=1',
];

const accepts = (check: () => unknown) => {
  try {
    check();
    return true;
  } catch {
    return false;
  }
};

describe('the console checks URLs as the Applications API does', () => {
  it('accepts and refuses the same URLs and origins', () => {
    for (const url of URLS) {
      expect(urlProblem(url) === null, url).toBe(accepts(() => checkUrl(url, 'url')));
      expect(originProblem(url) === null, url).toBe(accepts(() => checkOrigin(url, 'o')));
    }
  });

  it('says what is wrong in a sentence of its own', () => {
    const form = { ...emptyApplicationForm('single_page'), name: 'App', url: 'javascript:x' };
    expect(checkApplicationForm(form).url).toBe('Only http and https URLs are allowed.');
  });
});

describe('the console checks API access token forms as the Tokens API does', () => {
  it('refuses the referers the API refuses, with its reason', () => {
    const base = {
      ...emptyTokenForm('carto_dw'),
      grants: [{ connection_name: 'carto_dw', source: 'demo.countries' }],
      allowedApis: ['maps' as const],
    };
    for (const referer of ['https://app.example.com', 'ftp://x.example', 'https://a.b/?q']) {
      const errors = checkTokenForm({ ...base, referers: referer }, Date.now());
      const problem = refererProblem(referer);
      expect(errors.referers, referer).toBe(problem ? `Line 1: ${problem}.` : undefined);
    }
  });

  it('takes a quoted table name with a space for a table, not a query', () => {
    expect(isQuerySource('public."Mixed Case"')).toBe(false);
    expect(isQuerySource('"we.ird"."t x"')).toBe(false);
    expect(isQuerySource('SELECT * FROM demo.countries')).toBe(true);
  });
});
