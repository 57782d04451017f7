import { useEffect } from 'react';
import { apiRequest } from '../../api/client';
import type { Connection, ListAnswer } from '../../api/types';
import { ErrorNote } from '../../components/ErrorNote';
import { SelectField } from '../../components/fields';
import { useResource } from '../../hooks';

const listConnections = (signal: AbortSignal) =>
  apiRequest<ListAnswer<Connection>>('/v3/connections', { signal });

interface ConnectionSelectProps {
  value: string;
  onChange: (name: string) => void;
}

/** The account's connections to pick one from; picks the first when none is chosen yet. */
export function ConnectionSelect({ value, onChange }: ConnectionSelectProps) {
  const connections = useResource('connections', listConnections);
  const names = (connections.data?.data ?? []).map((connection) => connection.name);
  const first = names[0];

  useEffect(() => {
    if (value === '' && first) onChange(first);
  }, [value, first, onChange]);

  if (connections.error) return <ErrorNote message={connections.error} />;
  const options = names.length > 0 ? names : [value || 'carto_dw'];
  return (
    <SelectField
      label="Connection"
      value={value || options[0]!}
      options={options.map((name) => ({ value: name, label: name }))}
      onChange={onChange}
      disabled={connections.loading && !connections.data}
    />
  );
}
