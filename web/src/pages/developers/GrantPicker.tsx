import { useState } from 'react';
import type { Connection, Grant } from '../../api/types';
import { listQualifiedTables } from '../../api/sql';
import { ErrorNote } from '../../components/ErrorNote';
import { Checkbox, SelectField, TextField } from '../../components/fields';
import { useResource } from '../../hooks';
import { useCan } from '../../session';
import { isPatternSource, isQuerySource, sameGrant } from './token-rules';

const MAX_LISTED_TABLES = 200;

interface GrantPickerProps {
  connections: readonly Connection[];
  connection: string;
  onConnectionChange: (connection: string) => void;
  grants: readonly Grant[];
  onGrantsChange: (grants: Grant[]) => void;
  freeSource: string;
  onFreeSourceChange: (source: string) => void;
  error: string | undefined;
}

function kindOf(source: string): string {
  if (isQuerySource(source)) return 'query';
  if (isPatternSource(source)) return 'pattern';
  return 'table';
}

/**
 * A token's grants: tables picked from the connection's catalog (read with the SQL API), and
 * any other source typed in: a SQL query, `schema.*` or `*`.
 */
export function GrantPicker(props: GrantPickerProps) {
  const canRunSql = useCan('execute:sql');
  const [filter, setFilter] = useState('');
  const tables = useResource(
    canRunSql && props.connection ? `tables:${props.connection}` : null,
    (signal) => listQualifiedTables(props.connection, signal),
  );
  const words = filter.trim().toLowerCase();
  const matching = (tables.data ?? []).filter((table) => table.toLowerCase().includes(words));
  const shown = matching.slice(0, MAX_LISTED_TABLES);

  const toggle = (source: string, checked: boolean) => {
    const grant = { connection_name: props.connection, source };
    const others = props.grants.filter((item) => !sameGrant(item, grant));
    props.onGrantsChange(checked ? [...others, grant] : others);
  };
  const addFreeSource = () => {
    const source = props.freeSource.trim();
    if (!source || !props.connection) return;
    const grant = { connection_name: props.connection, source };
    if (!props.grants.some((item) => sameGrant(item, grant))) {
      props.onGrantsChange([...props.grants, grant]);
    }
    props.onFreeSourceChange('');
  };

  return (
    <fieldset className="fieldset">
      <legend>Grants</legend>
      <SelectField
        label="Connection"
        value={props.connection}
        options={props.connections.map((item) => ({ value: item.name, label: item.name }))}
        onChange={props.onConnectionChange}
      />
      {canRunSql ? (
        <div className="table-picker">
          <TextField
            label="Filter tables"
            type="search"
            value={filter}
            onChange={setFilter}
            placeholder="schema.table"
          />
          <ErrorNote message={tables.error} />
          {tables.loading && <p role="status">Loading tables…</p>}
          {!tables.loading && tables.data && (
            <div className="check-list" role="group" aria-label={`Tables of ${props.connection}`}>
              {shown.length === 0 && <p className="empty">No tables match.</p>}
              {shown.map((table) => (
                <Checkbox
                  key={table}
                  label={table}
                  checked={props.grants.some((grant) =>
                    sameGrant(grant, { connection_name: props.connection, source: table }),
                  )}
                  onChange={(checked) => toggle(table, checked)}
                />
              ))}
              {matching.length > shown.length && (
                <p className="field-hint">
                  {matching.length - shown.length} more: filter to find them.
                </p>
              )}
            </div>
          )}
        </div>
      ) : (
        <p className="field-hint">
          Your role cannot list the connection&apos;s tables; type their names below.
        </p>
      )}
      <div className="inline-add">
        <TextField
          label="Other source"
          rows={2}
          monospace
          value={props.freeSource}
          onChange={props.onFreeSourceChange}
          hint="A SQL query, a table name, schema.* for a whole schema, or * for everything."
        />
        <button
          type="button"
          className="button"
          onClick={addFreeSource}
          disabled={props.freeSource.trim() === ''}
        >
          Add source
        </button>
      </div>
      <h3 className="subheading">Granted ({props.grants.length})</h3>
      {props.grants.length === 0 ? (
        <p className="empty">Nothing granted yet.</p>
      ) : (
        <ul className="grant-list">
          {props.grants.map((grant) => (
            <li key={`${grant.connection_name}\u0000${grant.source}`}>
              <span className="grant-kind">{kindOf(grant.source)}</span>
              <code className="grant-source">
                {grant.connection_name} · {grant.source}
              </code>
              <button
                type="button"
                className="button button-small"
                aria-label={`Remove ${grant.source}`}
                onClick={() =>
                  props.onGrantsChange(props.grants.filter((item) => !sameGrant(item, grant)))
                }
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {props.error && (
        <p className="field-error" role="alert">
          {props.error}
        </p>
      )}
    </fieldset>
  );
}
