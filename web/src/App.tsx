import { useEffect, useState } from 'react';
import { apiRequest, messageOf } from './api/client';
import type { Me } from './api/types';
import { completeSignIn, discover, moveToIssuerOrigin, readToken, startSignIn } from './auth/oauth';
import { restoreDrafts } from './drafts';
import { appPath, BASE_PATH } from './router';
import { SessionContext } from './session';
import { Shell } from './Shell';

type Boot =
  | { phase: 'starting' }
  | { phase: 'signed-out' }
  | { phase: 'failed'; message: string }
  | { phase: 'ready'; me: Me };

/**
 * Finishes a sign-in that returns here, or makes sure the page is on the issuer's origin;
 * then reads who is signed in. Answers what to show.
 */
async function boot(): Promise<Boot> {
  if (appPath() === '/callback') {
    const returnTo = await completeSignIn(new URL(location.href));
    const target = returnTo.startsWith(`${BASE_PATH}/`) ? returnTo : `${BASE_PATH}/`;
    history.replaceState(null, '', target);
    restoreDrafts();
  } else if (moveToIssuerOrigin(await discover())) {
    return new Promise<never>(() => undefined);
  }
  if (!readToken()) return { phase: 'signed-out' };
  const me = await apiRequest<Me>('/v3/me');
  return { phase: 'ready', me };
}

let booting: Promise<Boot> | undefined;

/** A code is exchanged once: the page boots once however often it is rendered. */
function bootOnce(): Promise<Boot> {
  booting ??= boot();
  return booting;
}

function SignInScreen({ message }: { message?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const signIn = () => {
    setBusy(true);
    const returnTo = appPath() === '/callback' ? `${BASE_PATH}/` : location.pathname;
    startSignIn(returnTo).catch((failure: unknown) => {
      setError(messageOf(failure));
      setBusy(false);
    });
  };
  return (
    <main className="welcome" id="main">
      <div className="welcome-card">
        <h1 className="welcome-title">
          <img src={`${BASE_PATH}/favicon.svg`} alt="" width="40" height="40" />
          Graticule console
        </h1>
        <p>
          Manage API access tokens, OAuth clients and connections, browse your data and run SQL on
          this Graticule server.
        </p>
        {message && (
          <p className="error-note" role="alert">
            {message}
          </p>
        )}
        {error && (
          <p className="error-note" role="alert">
            {error}
          </p>
        )}
        <button type="button" className="button button-primary" onClick={signIn} disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </div>
    </main>
  );
}

/** The console: a sign-in screen, or the signed-in shell with its pages. */
export function App() {
  const [state, setState] = useState<Boot>({ phase: 'starting' });

  useEffect(() => {
    bootOnce().then(setState, (failure: unknown) =>
      setState({ phase: 'failed', message: messageOf(failure) }),
    );
  }, []);

  switch (state.phase) {
    case 'starting':
      return (
        <main className="welcome" id="main">
          <p role="status">Loading…</p>
        </main>
      );
    case 'signed-out':
      return <SignInScreen />;
    case 'failed':
      return <SignInScreen message={state.message} />;
    case 'ready':
      return (
        <SessionContext.Provider value={state.me}>
          <Shell />
        </SessionContext.Provider>
      );
  }
}
