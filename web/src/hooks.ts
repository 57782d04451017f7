import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { isAbort, messageOf } from './api/client';

export interface Resource<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads something when `key` changes (and on `reload`), dropping answers that arrive after a
 * newer request started. `key` null loads nothing.
 */
export function useResource<T>(
  key: string | null,
  load: (signal: AbortSignal) => Promise<T>,
): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(key !== null);
  const [generation, setGeneration] = useState(0);
  const loader = useRef(load);
  useEffect(() => {
    loader.current = load;
  }, [load]);

  useEffect(() => {
    if (key === null) {
      setData(undefined);
      setLoading(false);
      return;
    }
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    loader.current(controller.signal).then(
      (value) => {
        if (controller.signal.aborted) return;
        setData(value);
        setLoading(false);
      },
      (failure: unknown) => {
        if (controller.signal.aborted || isAbort(failure)) return;
        setError(messageOf(failure));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [key, generation]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { data, error, loading, reload };
}

/**
 * Runs a form's request once at a time: `busy` disables the submit button, and a second submit
 * while one is in flight does nothing (a double click creates one object).
 */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inFlight = useRef(false);

  const run = useCallback(async (work: () => Promise<void>) => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }, []);

  return { busy, error, setError, run };
}

/** `2026-01-10T09:00:00.000Z` as a short local date and time. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString('en-GB', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** Moves focus to the first field marked invalid, once the page shows the marks. */
export function focusFirstInvalid(): void {
  requestAnimationFrame(() => {
    document.querySelector<HTMLElement>('main [aria-invalid="true"]')?.focus();
  });
}

/** A form's errors without those of the fields whose values just changed. */
export function withoutChangedFields<T extends object>(
  errors: Partial<Record<keyof T, string>>,
  before: T,
  after: T,
): Partial<Record<keyof T, string>> {
  const kept = { ...errors };
  for (const key of Object.keys(errors) as (keyof T)[]) {
    if (before[key] !== after[key]) delete kept[key];
  }
  return kept;
}

/**
 * Moves focus after the next render, to the first of `targets` then on the page: where focus
 * belongs once what held it (a closed form, a dismissed panel, a deleted row) is gone.
 */
export function useFocusAfterRender(targets: readonly RefObject<HTMLElement | null>[]) {
  const pending = useRef(false);
  const [, setRequests] = useState(0);
  const targetsRef = useRef(targets);
  useEffect(() => {
    targetsRef.current = targets;
  });
  useEffect(() => {
    if (!pending.current) return;
    const target = targetsRef.current.find((ref) => ref.current)?.current;
    if (!target) return;
    pending.current = false;
    target.focus();
  });
  return useCallback(() => {
    pending.current = true;
    setRequests((count) => count + 1);
  }, []);
}

/** Focuses the first field of a form when it appears; gives the form's ref. */
export function useFocusFirstField<T extends HTMLElement>(): RefObject<T | null> {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('input, textarea, select')?.focus();
  }, []);
  return ref;
}
