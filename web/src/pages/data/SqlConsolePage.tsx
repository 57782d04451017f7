import { useCallback, useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import { runSql } from '../../api/sql';
import type { SqlAnswer } from '../../api/types';
import { readToken } from '../../auth/oauth';
import { ErrorNote } from '../../components/ErrorNote';
import { MapPreview } from '../../components/MapPreview';
import { ResultTable } from '../../components/ResultTable';
import { useDraft } from '../../drafts';
import { useSubmit } from '../../hooks';
import { ROLE_LABELS, useCan, useMe } from '../../session';
import { ConnectionSelect } from './ConnectionSelect';

interface Draft {
  connection: string;
  query: string;
}

interface Result {
  answer: SqlAnswer;
  query: string;
  connection: string;
  elapsedMs: number;
}

const EXAMPLE = [
  'SELECT name, population',
  'FROM demo.populated_places',
  'ORDER BY population DESC',
  'LIMIT 10',
].join('\n');

/** Runs SQL on a connection and shows the rows with their column types, or the error. */
export function SqlConsolePage() {
  const me = useMe();
  const canRun = useCan('execute:sql');
  const [draft, setDraft] = useDraft<Draft>('sql.console', { connection: '', query: EXAMPLE });
  const [result, setResult] = useState<Result | null>(null);
  const [mapping, setMapping] = useState(false);
  const submit = useSubmit();
  const queryId = useId();
  const setConnection = useCallback(
    (connection: string) => setDraft((current) => ({ ...current, connection })),
    [setDraft],
  );

  const run = () => {
    const query = draft.query.trim();
    if (!query || !draft.connection) return;
    setMapping(false);
    void submit.run(async () => {
      setResult(null);
      const started = performance.now();
      const answer = await runSql(draft.connection, query);
      const elapsedMs = performance.now() - started;
      setResult({ answer, query, connection: draft.connection, elapsedMs });
    });
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    run();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  };

  const geometry = result?.answer.schema.find((column) => column.type === 'geometry');
  const token = readToken()?.accessToken;
  const rowCount = result ? (result.answer.meta?.rowCount ?? result.answer.rows.length) : 0;

  return (
    <section className="page stack" aria-labelledby="sql-title">
      <h1 id="sql-title">SQL console</h1>
      {!canRun ? (
        <p className="notice">
          Your role ({ROLE_LABELS[me.role]}) cannot run SQL. Editors and Admins can.
        </p>
      ) : (
        <form className="card form" onSubmit={onSubmit} aria-label="Run SQL">
          <ConnectionSelect value={draft.connection} onChange={setConnection} />
          <div className="field">
            <label htmlFor={queryId} className="field-label">
              Query
            </label>
            <textarea
              id={queryId}
              className="input input-mono sql-input"
              rows={8}
              spellCheck={false}
              value={draft.query}
              onChange={(event) => setDraft({ ...draft, query: event.target.value })}
              onKeyDown={onKeyDown}
              aria-describedby={`${queryId}-hint`}
            />
            <p id={`${queryId}-hint`} className="field-hint">
              Ctrl+Enter (⌘+Enter on a Mac) runs the query.
            </p>
          </div>
          <div className="form-actions">
            <button
              type="submit"
              className="button button-primary"
              disabled={submit.busy || draft.query.trim() === ''}
            >
              {submit.busy ? 'Running…' : 'Run'}
            </button>
          </div>
        </form>
      )}

      <ErrorNote message={submit.error} />
      {result && (
        <section className="stack" aria-label="Result">
          <div className="toolbar">
            <p className="result-summary" role="status">
              {rowCount.toLocaleString('en')} {rowCount === 1 ? 'row' : 'rows'} in{' '}
              {Math.round(result.elapsedMs).toLocaleString('en')} ms
            </p>
            {geometry && token && (
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
          {mapping && geometry && token && (
            <MapPreview
              source={{
                connection: result.connection,
                q: result.query.replace(/;\s*$/, ''),
                spatialDataColumn: geometry.name,
              }}
              token={token}
              basemap
            />
          )}
          {result.answer.schema.length > 0 ? (
            <ResultTable
              caption="Result rows"
              columns={result.answer.schema}
              rows={result.answer.rows}
            />
          ) : (
            <p className="empty">The statement returned no columns.</p>
          )}
        </section>
      )}
    </section>
  );
}
