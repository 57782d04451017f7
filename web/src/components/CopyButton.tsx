import { useEffect, useState } from 'react';

const RESET_MS = 2000;

/** Copies `value` to the clipboard; says so for a moment, in words a screen reader reads. */
export function CopyButton({ value, what }: { value: string; what: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');

  useEffect(() => {
    if (state === 'idle') return;
    const timer = window.setTimeout(() => setState('idle'), RESET_MS);
    return () => window.clearTimeout(timer);
  }, [state]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      setState('failed');
    }
  };

  return (
    <span className="copy">
      <button
        type="button"
        className="button button-small"
        aria-label={`Copy ${what}`}
        onClick={() => void copy()}
      >
        Copy
      </button>
      <span className="copy-status" role="status">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select and copy' : ''}
      </span>
    </span>
  );
}

/** A value shown read-only, in full, with its copy button. */
export function CopyableValue({ label, value }: { label: string; value: string }) {
  return (
    <div className="copyable">
      <span className="copyable-label">{label}</span>
      <code className="copyable-value">{value}</code>
      <CopyButton value={value} what={label.toLowerCase()} />
    </div>
  );
}
