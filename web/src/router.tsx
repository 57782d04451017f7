/**
 * The console's few routes, read from the address below `/ui`. Links change the address with
 * the History API; the server answers `index.html` for every path below `/ui/`.
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export const BASE_PATH = '/ui';
const CHANGE_EVENT = 'graticule:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(CHANGE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(CHANGE_EVENT, onChange);
  };
}

/** The path below `/ui`, always starting with `/` (`/` for the start page). */
export function appPath(): string {
  const { pathname } = location;
  const below = pathname.startsWith(BASE_PATH) ? pathname.slice(BASE_PATH.length) : pathname;
  return below.startsWith('/') ? below : `/${below}`;
}

/** The current path below `/ui`; re-renders when it changes. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, appPath);
}

/** Goes to a console path (`/developers/tokens`), adding to the history unless replacing. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = `${BASE_PATH}${to}`;
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(CHANGE_EVENT));
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string };

/** A link to a console path that stays in the page (modified clicks open a new tab). */
export function Link({ to, onClick, ...props }: LinkProps) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={`${BASE_PATH}${to}`} onClick={follow} {...props} />;
}
