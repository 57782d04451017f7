import { useEffect, useState } from 'react';
import { messageOf } from './api/client';
import { signOut } from './auth/oauth';
import { ConnectionsPage } from './pages/connections/ConnectionsPage';
import { ExplorerPage } from './pages/data/ExplorerPage';
import { SqlConsolePage } from './pages/data/SqlConsolePage';
import { DevelopersPage } from './pages/developers/DevelopersPage';
import { Link, navigate, usePath } from './router';
import { ROLE_LABELS, useMe } from './session';

const SECTIONS = [
  { path: '/developers', label: 'Developers', title: 'Developers' },
  { path: '/connections', label: 'Connections', title: 'Connections' },
  { path: '/explorer', label: 'Data explorer', title: 'Data explorer' },
  { path: '/sql', label: 'SQL console', title: 'SQL console' },
] as const;

function UserBox() {
  const me = useMe();
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="user-box">
      <span className="user-name" title={me.email}>
        {me.name || me.email}
      </span>
      <span className={`role-badge role-${me.role}`}>
        <span className="visually-hidden">Role: </span>
        {ROLE_LABELS[me.role]}
      </span>
      <button
        type="button"
        className="button button-small"
        onClick={() => void signOut().catch((failure: unknown) => setError(messageOf(failure)))}
      >
        Sign out
      </button>
      {error && (
        <span className="error-note" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

function NotFound() {
  return (
    <section className="page">
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. Go to <Link to="/developers">Developers</Link>.
      </p>
    </section>
  );
}

function Page({ path }: { path: string }) {
  if (path === '/' || path === '') return null;
  if (path === '/developers' || path.startsWith('/developers/')) {
    return <DevelopersPage tab={path.split('/')[2] ?? ''} />;
  }
  if (path === '/connections') return <ConnectionsPage />;
  if (path === '/explorer') return <ExplorerPage />;
  if (path === '/sql') return <SqlConsolePage />;
  return <NotFound />;
}

/** The signed-in console: the top bar (sections, who is signed in) and the current page. */
export function Shell() {
  const path = usePath();
  const me = useMe();
  const section = SECTIONS.find((item) => path.startsWith(item.path));

  useEffect(() => {
    // The start page: what the role can use.
    if (path === '/' || path === '') {
      const start = me.permissions.includes('read:tokens') ? '/developers' : '/connections';
      navigate(start, { replace: true });
    }
  }, [path, me]);

  useEffect(() => {
    document.title = section ? `${section.title} · Graticule console` : 'Graticule console';
  }, [section]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/developers" className="brand">
          <img src="/ui/favicon.svg" alt="" width="24" height="24" />
          <span>Graticule</span>
        </Link>
        <nav aria-label="Sections" className="nav">
          {SECTIONS.map((item) => (
            <Link
              key={item.path}
              to={item.path}
              className="nav-link"
              aria-current={section?.path === item.path ? 'page' : undefined}
            >
              {item.label}
            </Link>
          ))}
        </nav>
        <UserBox />
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Page path={path} />
      </main>
    </>
  );
}
