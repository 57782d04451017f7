import { Fragment, useRef, useState } from 'react';
import { apiRequest, messageOf } from '../../api/client';
import type { Connection, ConnectionTestReport, ListAnswer } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNote } from '../../components/ErrorNote';
import { useDraft } from '../../drafts';
import {
  focusFirstInvalid,
  formatDate,
  useFocusAfterRender,
  useResource,
  useSubmit,
  withoutChangedFields,
} from '../../hooks';
import { useCan } from '../../session';
import { ConnectionForm } from './ConnectionForm';
import {
  PROVIDER_LABELS,
  checkConnectionForm,
  connectionBody,
  emptyConnectionForm,
  type ConnectionFormErrors,
  type ConnectionFormValues,
} from './connection-rules';

type Editor = { mode: 'closed' } | { mode: 'create'; values: ConnectionFormValues };

const listConnections = (signal: AbortSignal) =>
  apiRequest<ListAnswer<Connection>>('/v3/connections', { signal });

function describeReport(name: string, report: ConnectionTestReport): string {
  const postgis = report.postgisVersion ? `PostGIS ${report.postgisVersion}` : 'no PostGIS';
  const latency = Math.round(report.latencyMs);
  return `${name}: connected in ${latency} ms, ${report.serverVersion}, ${postgis}.`;
}

function providerOf(connection: Connection): string {
  if (connection.managed) return 'Embedded PostGIS';
  const labels: Record<string, string> = PROVIDER_LABELS;
  return labels[connection.provider_id] ?? connection.provider_id;
}

function whereItIs(connection: Connection): string {
  if (connection.managed) return 'Embedded warehouse (managed by Graticule)';
  const { host, port, database, username } = connection.config;
  return `${username ?? '?'}@${host ?? '?'}:${port ?? '?'}/${database ?? '?'}`;
}

/** `user@host:port/db` allowed to break before its separators only, never inside a name. */
function WhereItIs({ connection }: { connection: Connection }) {
  const parts = whereItIs(connection).split(/(?=[@:/])/);
  return parts.map((part, index) => (
    <Fragment key={index}>
      {index > 0 && <wbr />}
      {part}
    </Fragment>
  ));
}

/** The account's connections: the list, a new one (tested before saving), test, delete. */
export function ConnectionsPage() {
  const canWrite = useCan('write:connections');
  const list = useResource('connections', listConnections);
  const addButton = useRef<HTMLButtonElement>(null);
  const pageTitle = useRef<HTMLHeadingElement>(null);
  const focusBack = useFocusAfterRender([addButton, pageTitle]);
  const [editor, setEditor] = useDraft<Editor>('connections.editor', { mode: 'closed' });
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<ConnectionFormErrors>({});
  const [formTest, setFormTest] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const [rowTests, setRowTests] = useState<Record<string, { ok: boolean; text: string }>>({});
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const submit = useSubmit();

  const openCreate = () => {
    setErrors({});
    setFormTest(null);
    setPassword('');
    submit.setError(null);
    setEditor({ mode: 'create', values: emptyConnectionForm() });
  };

  const checked = (requireName: boolean) => {
    if (editor.mode !== 'create') return null;
    const problems = checkConnectionForm(editor.values, password, requireName);
    setErrors(problems);
    if (Object.keys(problems).length === 0) return connectionBody(editor.values, password);
    focusFirstInvalid();
    return null;
  };

  const save = () => {
    const body = checked(true);
    if (!body) return;
    void submit.run(async () => {
      await apiRequest<Connection>('/v3/connections', { method: 'POST', body });
      setEditor({ mode: 'closed' });
      setPassword('');
      focusBack();
      list.reload();
    });
  };

  const testUnsaved = () => {
    const body = checked(false);
    if (!body) return;
    setFormTest(null);
    setTesting(true);
    void submit
      .run(async () => {
        const { name: _name, ...unsaved } = body;
        const report = await apiRequest<ConnectionTestReport>('/v3/connections/test', {
          method: 'POST',
          body: { ...unsaved, name: 'connection-test' },
        });
        setFormTest(describeReport('Test', report));
      })
      .finally(() => setTesting(false));
  };

  const testSaved = async (connection: Connection) => {
    setRowTests((tests) => ({ ...tests, [connection.id]: { ok: true, text: 'Testing…' } }));
    try {
      const path = `/v3/connections/${encodeURIComponent(connection.id)}/test`;
      const report = await apiRequest<ConnectionTestReport>(path, { method: 'POST' });
      const text = describeReport(connection.name, report);
      setRowTests((tests) => ({ ...tests, [connection.id]: { ok: true, text } }));
    } catch (failure) {
      const text = `${connection.name}: ${messageOf(failure)}`;
      setRowTests((tests) => ({ ...tests, [connection.id]: { ok: false, text } }));
    }
  };

  const remove = async (connection: Connection) => {
    await apiRequest<void>(`/v3/connections/${encodeURIComponent(connection.id)}`, {
      method: 'DELETE',
    });
    setDeleting(null);
    focusBack();
    list.reload();
  };

  const connections = list.data?.data ?? [];
  const results = connections.flatMap((connection) => {
    const test = rowTests[connection.id];
    return test ? [{ id: connection.id, ...test }] : [];
  });

  return (
    <section className="page stack" aria-labelledby="connections-title">
      <div className="toolbar">
        <h1 id="connections-title" ref={pageTitle} tabIndex={-1}>
          Connections
        </h1>
        {canWrite && editor.mode === 'closed' && (
          <button
            ref={addButton}
            type="button"
            className="button button-primary"
            onClick={openCreate}
          >
            + Add connection
          </button>
        )}
      </div>
      <p className="page-lead">
        The warehouses this account&apos;s tokens query: the embedded <code>carto_dw</code> and your
        own PostgreSQL/PostGIS or Redshift databases.
      </p>
      {!canWrite && (
        <p className="notice">Your role can see connections but not add, test or remove them.</p>
      )}

      {editor.mode === 'create' && (
        <ConnectionForm
          values={editor.values}
          onChange={(values) => {
            setErrors(withoutChangedFields(errors, editor.values, values));
            setEditor({ mode: 'create', values });
          }}
          password={password}
          onPasswordChange={(value) => {
            setErrors(({ password: _password, ...others }) => others);
            setPassword(value);
          }}
          errors={errors}
          serverError={submit.error}
          busy={submit.busy}
          testing={testing}
          testResult={formTest}
          onSubmit={save}
          onTest={testUnsaved}
          onCancel={() => {
            setEditor({ mode: 'closed' });
            focusBack();
          }}
        />
      )}

      <ErrorNote message={list.error} />
      <div aria-live="polite" className="stack">
        {results.map((result) =>
          result.ok ? (
            <p key={result.id} className="notice notice-success">
              {result.text}
            </p>
          ) : (
            <p key={result.id} className="error-note" role="alert">
              {result.text}
            </p>
          ),
        )}
      </div>
      {list.loading && !list.data ? (
        <p role="status">Loading…</p>
      ) : (
        <div className="table-scroll">
          <table className="table table-list">
            <caption className="visually-hidden">Connections</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Provider</th>
                <th scope="col">Where</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {connections.map((connection) => (
                <tr key={connection.id}>
                  <td className="cell-title">{connection.name}</td>
                  <td>{providerOf(connection)}</td>
                  <td className="cell-where">
                    <WhereItIs connection={connection} />
                  </td>
                  <td>{formatDate(connection.created_at)}</td>
                  <td className="actions">
                    {canWrite && (
                      <button
                        type="button"
                        className="button button-small"
                        aria-label={`Test ${connection.name}`}
                        onClick={() => void testSaved(connection)}
                      >
                        Test
                      </button>
                    )}
                    {canWrite && !connection.managed && (
                      <button
                        type="button"
                        className="button button-small button-danger"
                        aria-label={`Delete ${connection.name}`}
                        onClick={() => setDeleting(connection)}
                      >
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          confirmLabel="Delete"
          danger
          onConfirm={() => remove(deleting)}
          onClose={() => setDeleting(null)}
        >
          <p>
            The connection <strong>{deleting.name}</strong> is removed with its stored password.
            Tokens and maps that use it stop working. The database itself is not touched.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
