/**
 * The OAuth server keeps each request's context in an `AsyncLocalStorage`. Once one has run,
 * Node 20 calls its hook for every promise and callback the process makes, on every route,
 * for good. Turning the storage off whenever no OAuth request is in flight keeps that cost on
 * the OAuth routes; the next one turns it on again.
 */
import oauthContext from 'oidc-provider/lib/helpers/als.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handle = (...args: any[]) => Promise<void>;

let inFlight = 0;

/** `handle`, with the OAuth server's context storage off again once no request is in flight. */
export function releasingContext<H extends Handle>(handle: H): H {
  return (async (...args: Parameters<H>) => {
    inFlight += 1;
    try {
      await handle(...args);
    } finally {
      inFlight -= 1;
      if (inFlight === 0) oauthContext.disable();
    }
  }) as H;
}
