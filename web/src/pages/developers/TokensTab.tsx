import { useEffect, useRef, useState } from 'react';
import { apiRequest } from '../../api/client';
import type { ApiToken, Connection, ListAnswer } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNote } from '../../components/ErrorNote';
import { MapPreview, type MapSource } from '../../components/MapPreview';
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
import { SecretPanel } from './SecretPanel';
import { TokenForm } from './TokenForm';
import {
  checkTokenForm,
  emptyTokenForm,
  grantsCoverBasemap,
  isPatternSource,
  isQuerySource,
  newTokenBody,
  type TokenFormErrors,
  type TokenFormValues,
} from './token-rules';

type Editor = { mode: 'closed' } | { mode: 'create'; values: TokenFormValues };

const listTokens = (signal: AbortSignal) =>
  apiRequest<ListAnswer<ApiToken>>('/v3/tokens', { signal });
const listConnections = (signal: AbortSignal) =>
  apiRequest<ListAnswer<Connection>>('/v3/connections', { signal });

/** The first grant a map can show: a table or a query (not a pattern). */
function mappableSource(token: ApiToken): MapSource | null {
  if (!token.allowed_apis.includes('maps')) return null;
  const grant = token.grants.find((item) => !isPatternSource(item.source));
  if (!grant) return null;
  return isQuerySource(grant.source)
    ? { connection: grant.connection_name, q: grant.source }
    : { connection: grant.connection_name, name: grant.source };
}

function grantsSummary(token: ApiToken): string {
  const [first, ...rest] = token.grants;
  if (!first) return '—';
  const text = `${first.connection_name} · ${first.source}`;
  const shortened = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return rest.length > 0 ? `${shortened} (+${rest.length})` : shortened;
}

/** A token just created, shown this once, with a map preview drawn with it. */
function CreatedToken({ token, onDone }: { token: ApiToken; onDone: () => void }) {
  const [previewing, setPreviewing] = useState(false);
  const mapSource = mappableSource(token);
  if (!token.token) return null;
  return (
    <SecretPanel
      title={`Token ${token.name} is created`}
      values={[{ label: 'Token', value: token.token }]}
      notice={
        <p>
          <strong>Copy the token now.</strong> It is shown only this once; the list shows its id. If
          it is lost, create a new one and delete this one.
        </p>
      }
      onDone={onDone}
    >
      {mapSource && (
        <div className="stack">
          <button
            type="button"
            className="button"
            aria-expanded={previewing}
            onClick={() => setPreviewing(!previewing)}
          >
            {previewing ? 'Hide the map preview' : 'Preview on a map with this token'}
          </button>
          {previewing && (
            <MapPreview
              source={mapSource}
              token={token.token}
              basemap={grantsCoverBasemap(token.grants)}
            />
          )}
        </div>
      )}
    </SecretPanel>
  );
}

interface TokensTabProps {
  /** Told whether a token, shown only once, is on screen (to ask before leaving the tab). */
  onSecretShown: (shown: boolean) => void;
}

/**
 * API access tokens: the caller's list, creation (the token shown once, until its Done) and
 * deletion.
 */
export function TokensTab({ onSecretShown }: TokensTabProps) {
  const canRead = useCan('read:tokens');
  const canWrite = useCan('write:tokens');
  const tokens = useResource(canRead ? 'tokens' : null, listTokens);
  const connections = useResource(canWrite ? 'connections' : null, listConnections);
  const [editor, setEditor] = useDraft<Editor>('tokens.editor', { mode: 'closed' });
  const [errors, setErrors] = useState<TokenFormErrors>({});
  const [created, setCreated] = useState<readonly ApiToken[]>([]);
  const [deleting, setDeleting] = useState<ApiToken | null>(null);
  const submit = useSubmit();
  const createButton = useRef<HTMLButtonElement>(null);
  const listTitle = useRef<HTMLHeadingElement>(null);
  const focusBack = useFocusAfterRender([createButton, listTitle]);
  const secretShown = created.length > 0;
  useEffect(() => {
    onSecretShown(secretShown);
    return () => onSecretShown(false);
  }, [secretShown, onSecretShown]);

  if (!canRead) return <p className="notice">Your role cannot see API access tokens.</p>;

  const openCreate = () => {
    setErrors({});
    submit.setError(null);
    const first = connections.data?.data[0]?.name ?? 'carto_dw';
    setEditor({ mode: 'create', values: emptyTokenForm(first) });
  };

  const save = () => {
    if (editor.mode !== 'create') return;
    const problems = checkTokenForm(editor.values, Date.now());
    setErrors(problems);
    if (Object.keys(problems).length > 0) return focusFirstInvalid();
    void submit.run(async () => {
      const token = await apiRequest<ApiToken>('/v3/tokens', {
        method: 'POST',
        body: newTokenBody(editor.values),
      });
      setEditor({ mode: 'closed' });
      setCreated((shown) => [...shown, token]);
      tokens.reload();
    });
  };

  const remove = async (token: ApiToken) => {
    await apiRequest<void>(`/v3/tokens/${encodeURIComponent(token.id)}`, { method: 'DELETE' });
    setDeleting(null);
    setCreated((shown) => shown.filter((item) => item.id !== token.id));
    focusBack();
    tokens.reload();
  };

  const list = tokens.data?.data ?? [];

  return (
    <div className="stack">
      <div className="toolbar">
        <h2 className="toolbar-title" ref={listTitle} tabIndex={-1}>
          API access tokens
        </h2>
        {canWrite && editor.mode === 'closed' && (
          <button
            ref={createButton}
            type="button"
            className="button button-primary"
            onClick={openCreate}
          >
            + Create new
          </button>
        )}
      </div>

      {created.map((token) => (
        <CreatedToken
          key={token.id}
          token={token}
          onDone={() => {
            setCreated((shown) => shown.filter((item) => item !== token));
            focusBack();
          }}
        />
      ))}

      {editor.mode === 'create' && (
        <>
          <ErrorNote message={connections.error} />
          <TokenForm
            connections={connections.data?.data ?? []}
            values={editor.values}
            onChange={(values) => {
              setErrors(withoutChangedFields(errors, editor.values, values));
              setEditor({ mode: 'create', values });
            }}
            errors={errors}
            serverError={submit.error}
            busy={submit.busy}
            onSubmit={save}
            onCancel={() => {
              setEditor({ mode: 'closed' });
              focusBack();
            }}
          />
        </>
      )}

      <ErrorNote message={tokens.error} />
      {tokens.loading && !tokens.data ? (
        <p role="status">Loading…</p>
      ) : list.length === 0 ? (
        <p className="empty">No API access tokens yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="table table-list">
            <caption className="visually-hidden">API access tokens</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Token ID</th>
                <th scope="col">APIs</th>
                <th scope="col">Grants</th>
                <th scope="col">Expires</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((token) => (
                <tr key={token.id}>
                  <td className="cell-title">{token.name}</td>
                  <td>
                    <code className="id">{token.id}</code>
                  </td>
                  <td>{token.allowed_apis.join(', ')}</td>
                  <td className="cell-code">{grantsSummary(token)}</td>
                  <td>{token.expiration_date ? formatDate(token.expiration_date) : 'Never'}</td>
                  <td>{formatDate(token.created_at)}</td>
                  <td className="actions">
                    {canWrite && (
                      <button
                        type="button"
                        className="button button-small button-danger"
                        aria-label={`Delete ${token.name}`}
                        onClick={() => setDeleting(token)}
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
            The token <strong>{deleting.name}</strong> stops working at once, on every page that
            uses it. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
