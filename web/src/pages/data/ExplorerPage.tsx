import { useCallback, useState, type FormEvent } from 'react';
import {
  listColumns,
  listSchemas,
  listTables,
  previewRows,
  qualifiedName,
  type TableEntry,
} from '../../api/sql';
import { readToken } from '../../auth/oauth';
import { ErrorNote } from '../../components/ErrorNote';
import { TextField } from '../../components/fields';
import { MapPreview, type MapSource } from '../../components/MapPreview';
import { ResultTable } from '../../components/ResultTable';
import { useDraft } from '../../drafts';
import { useResource } from '../../hooks';
import { ROLE_LABELS, useCan, useMe } from '../../session';
import { ConnectionSelect } from './ConnectionSelect';

const PREVIEW_ROWS = 20;

interface Draft {
  connection: string;
  schema: string;
  table: string;
  query: string;
  spatialColumn: string;
}

const EMPTY: Draft = { connection: '', schema: '', table: '', query: '', spatialColumn: 'geom' };

/** A name as the Maps API reads it: bare when PostgreSQL would fold it the same, else quoted. */
function TableDetails(props: { connection: string; schema: string; table: TableEntry }) {
  const { connection, schema, table } = props;
  const key = `${connection}\u0000${schema}\u0000${table.name}`;
  const columns = useResource(`columns:${key}`, (signal) =>
    listColumns(connection, schema, table.name, signal),
  );
  const rows = useResource(`rows:${key}`, (signal) =>
    previewRows(connection, schema, table.name, PREVIEW_ROWS, signal),
  );
  const [mapping, setMapping] = useState(false);
  const token = readToken()?.accessToken;
  const qualified = qualifiedName(schema, table.name);

  return (
    <div className="stack">
      <div className="toolbar">
        <h2 className="toolbar-title">
          <code>
            {schema}.{table.name}
          </code>
          {table.isView && <span className="badge">view</span>}
        </h2>
        {table.spatialColumn && token && (
          <button
            type="button"
            className="button"
            aria-expanded={mapping}
            onClick={() => setMapping(!mapping)}
          >
            {mapping ? 'Hide the map' : 'Show on a map'}
          </button>
        )}
      </div>
      {mapping && table.spatialColumn && token && (
        <MapPreview
          source={{ connection, name: qualified, spatialDataColumn: table.spatialColumn }}
          token={token}
          basemap
        />
      )}
      <h3 className="subheading">Columns</h3>
      <ErrorNote message={columns.error} />
      {columns.data && (
        <ul className="column-list">
          {columns.data.map((column) => (
            <li key={column.name}>
              <code>{column.name}</code> <span className="column-type">{column.dataType}</span>
            </li>
          ))}
        </ul>
      )}
      <h3 className="subheading">First {PREVIEW_ROWS} rows</h3>
      <ErrorNote message={rows.error} />
      {rows.loading && <p role="status">Loading rows…</p>}
      {rows.data && !rows.loading && (
        <ResultTable
          caption={`First rows of ${schema}.${table.name}`}
          columns={rows.data.schema}
          rows={rows.data.rows}
        />
      )}
    </div>
  );
}

function QueryMap({ draft, onChange }: { draft: Draft; onChange: (draft: Draft) => void }) {
  const [shown, setShown] = useState<MapSource | null>(null);
  const token = readToken()?.accessToken;
  const show = (event: FormEvent) => {
    event.preventDefault();
    const q = draft.query.trim().replace(/;\s*$/, '');
    if (!q) return;
    setShown({ connection: draft.connection, q, spatialDataColumn: draft.spatialColumn || 'geom' });
  };
  return (
    <form className="card form" onSubmit={show} aria-label="Map a query">
      <h2 className="card-title">Map a query</h2>
      <TextField
        label="Query"
        rows={3}
        monospace
        value={draft.query}
        onChange={(query) => onChange({ ...draft, query })}
        placeholder="SELECT name, geom FROM demo.countries WHERE name LIKE 'A%'"
      />
      <TextField
        label="Spatial column"
        value={draft.spatialColumn}
        onChange={(spatialColumn) => onChange({ ...draft, spatialColumn })}
      />
      <div className="form-actions">
        <button type="submit" className="button" disabled={draft.query.trim() === ''}>
          Show on a map
        </button>
      </div>
      {shown && token && <MapPreview source={shown} token={token} basemap />}
    </form>
  );
}

/** Browses a connection's schemas and tables, previews rows, and draws tables on a map. */
export function ExplorerPage() {
  const me = useMe();
  const canRun = useCan('execute:sql');
  const [draft, setDraft] = useDraft<Draft>('explorer', EMPTY);
  const { connection, schema } = draft;
  const schemas = useResource(canRun && connection ? `schemas:${connection}` : null, (signal) =>
    listSchemas(connection, signal),
  );
  const tables = useResource(
    canRun && connection && schema ? `tables:${connection}\u0000${schema}` : null,
    (signal) => listTables(connection, schema, signal),
  );
  const setConnection = useCallback(
    (name: string) =>
      setDraft((current) =>
        current.connection === name ? current : { ...current, connection: name, schema: '', table: '' },
      ),
    [setDraft],
  );
  const table = tables.data?.find((entry) => entry.name === draft.table);

  if (!canRun) {
    return (
      <section className="page" aria-labelledby="explorer-title">
        <h1 id="explorer-title">Data explorer</h1>
        <p className="notice">
          Your role ({ROLE_LABELS[me.role]}) cannot run SQL, which the explorer reads the catalog
          with. Editors and Admins can.
        </p>
      </section>
    );
  }

  return (
    <section className="page stack" aria-labelledby="explorer-title">
      <h1 id="explorer-title">Data explorer</h1>
      <div className="explorer-bar">
        <ConnectionSelect value={connection} onChange={setConnection} />
      </div>
      <div className="explorer">
        <nav className="explorer-nav" aria-label="Schemas and tables">
          <h2 className="subheading">Schemas</h2>
          <ErrorNote message={schemas.error} />
          {schemas.loading && <p role="status">Loading…</p>}
          <ul className="pick-list">
            {(schemas.data ?? []).map((name) => (
              <li key={name}>
                <button
                  type="button"
                  className="pick"
                  aria-pressed={name === schema}
                  onClick={() => setDraft({ ...draft, schema: name, table: '' })}
                >
                  {name}
                </button>
              </li>
            ))}
          </ul>
          {schema && (
            <>
              <h2 className="subheading">Tables in {schema}</h2>
              <ErrorNote message={tables.error} />
              {tables.loading && <p role="status">Loading…</p>}
              {tables.data?.length === 0 && <p className="empty">No tables.</p>}
              <ul className="pick-list">
                {(tables.data ?? []).map((entry) => (
                  <li key={entry.name}>
                    <button
                      type="button"
                      className="pick"
                      aria-pressed={entry.name === draft.table}
                      onClick={() => setDraft({ ...draft, table: entry.name })}
                    >
                      {entry.name}
                      {entry.spatialColumn && (
                        <span className="badge" title={`Spatial column ${entry.spatialColumn}`}>
                          map
                        </span>
                      )}
                    </button>
                  </li>
                ))}
              </ul>
            </>
          )}
        </nav>
        <div className="explorer-main">
          {table ? (
            <TableDetails
              key={`${connection}\u0000${schema}\u0000${table.name}`}
              connection={connection}
              schema={schema}
              table={table}
            />
          ) : (
            <p className="empty">Pick a schema, then a table, to see its columns and rows.</p>
          )}
        </div>
      </div>
      <QueryMap draft={draft} onChange={setDraft} />
    </section>
  );
}
