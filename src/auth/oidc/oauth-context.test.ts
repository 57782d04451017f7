import { setTimeout as delay } from 'node:timers/promises';
import oauthContext from 'oidc-provider/lib/helpers/als.js';
import { describe, expect, it } from 'vitest';
import { releasingContext } from './oauth-context.js';

/** Whether the storage is on, so Node runs its hook for every promise and callback. */
const isOn = () => (oauthContext as unknown as { enabled: boolean }).enabled;

/** A request handler that, like the OAuth server's, runs its work inside the storage. */
const handler = (ms: number, seen: unknown[]) =>
  releasingContext(async (id: string) => {
    await oauthContext.run({ id }, async () => {
      await delay(ms);
      seen.push(oauthContext.getStore());
    });
  });

describe('releasingContext', () => {
  it('turns the storage off once the last request in flight has ended', async () => {
    const seen: unknown[] = [];
    const slow = handler(30, seen)('slow');
    const fast = handler(5, seen)('fast');
    await fast;
    // The slow request still runs in its context: the storage stays on.
    expect(isOn()).toBe(true);
    await slow;
    expect(seen).toEqual([{ id: 'fast' }, { id: 'slow' }]);
    expect(isOn()).toBe(false);
  });

  it('turns it off after a request that fails too', async () => {
    const failing = releasingContext(async () => {
      await oauthContext.run({}, async () => {
        throw new Error('refused');
      });
    });
    await expect(failing()).rejects.toThrow('refused');
    expect(isOn()).toBe(false);
  });
});
