/**
 * Unsaved form values that survive a sign-in. Forms keep their state with `useDraft`; when the
 * session ends (a 401), `saveDrafts` writes every mounted draft to sessionStorage with the
 * page's address, and after the sign-in brings the browser back to that address each draft
 * starts from its saved value. Secrets (passwords) are never drafted.
 */
import { useEffect, useRef, useState, type Dispatch, type SetStateAction } from 'react';

const DRAFTS_KEY = 'graticule.console.drafts';

interface SavedDrafts {
  path: string;
  values: Record<string, unknown>;
}

/** Readers of the drafts on screen, by key. */
const mounted = new Map<string, () => unknown>();
/** Drafts saved before the last sign-in, waiting for their form to mount. */
let restored: Record<string, unknown> | null = null;

const currentPath = () => `${location.pathname}${location.search}`;

/** Writes every draft on screen to sessionStorage, for after the next sign-in. */
export function saveDrafts(): void {
  const values: Record<string, unknown> = {};
  for (const [key, read] of mounted) values[key] = read();
  const saved: SavedDrafts = { path: currentPath(), values };
  sessionStorage.setItem(DRAFTS_KEY, JSON.stringify(saved));
}

/**
 * Takes the saved drafts once the sign-in has returned to the page they were saved on; they
 * are then handed to the forms as they mount, each once.
 */
export function restoreDrafts(): void {
  const text = sessionStorage.getItem(DRAFTS_KEY);
  if (text === null) return;
  sessionStorage.removeItem(DRAFTS_KEY);
  try {
    const saved = JSON.parse(text) as SavedDrafts;
    if (saved.path === currentPath()) restored = saved.values;
  } catch {
    // A draft that does not parse is lost; the form starts empty.
  }
}

function takeRestored(key: string): { value: unknown } | null {
  if (!restored || !Object.hasOwn(restored, key)) return null;
  const value = restored[key];
  delete restored[key];
  return { value };
}

/**
 * `useState` for a form's unsaved values: kept across a sign-in that a 401 forced. `key` names
 * the form uniquely on its page.
 */
export function useDraft<T>(key: string, initial: T): [T, Dispatch<SetStateAction<T>>] {
  const [value, setValue] = useState<T>(() => {
    const saved = takeRestored(key);
    return saved ? (saved.value as T) : initial;
  });
  const latest = useRef(value);
  useEffect(() => {
    latest.current = value;
  }, [value]);
  useEffect(() => {
    mounted.set(key, () => latest.current);
    return () => {
      mounted.delete(key);
    };
  }, [key]);
  return [value, setValue];
}
