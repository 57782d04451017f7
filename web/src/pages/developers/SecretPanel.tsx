import { useEffect, useRef, type ReactNode } from 'react';
import { CopyableValue } from '../../components/CopyButton';

interface SecretPanelProps {
  title: string;
  /** The values to copy, label first; the secret ones are shown this once. */
  values: readonly { label: string; value: string }[];
  notice: ReactNode;
  onDone: () => void;
  children?: ReactNode;
}

/**
 * What the server shows only once (a client secret, a token), with copy buttons and a clear
 * notice. Focus moves to it when it appears.
 */
export function SecretPanel({ title, values, notice, onDone, children }: SecretPanelProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section className="card secret-panel" aria-label={title}>
      <h2 className="card-title" ref={heading} tabIndex={-1}>
        {title}
      </h2>
      <div className="notice notice-warning">{notice}</div>
      {values.map((item) => (
        <CopyableValue key={item.label} label={item.label} value={item.value} />
      ))}
      {children}
      <div className="form-actions">
        <button type="button" className="button" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  );
}
