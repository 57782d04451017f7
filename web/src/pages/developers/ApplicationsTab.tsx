import { useEffect, useRef, useState } from 'react';
import { apiRequest } from '../../api/client';
import type { Application, ApplicationType, ListAnswer } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { CopyButton } from '../../components/CopyButton';
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
import { ApplicationForm } from './ApplicationForm';
import {
  applicationFormOf,
  changedApplicationBody,
  checkApplicationForm,
  emptyApplicationForm,
  newApplicationBody,
  type ApplicationFormErrors,
  type ApplicationFormValues,
} from './application-rules';
import { SecretPanel } from './SecretPanel';

type Editor =
  | { mode: 'closed' }
  | { mode: 'create'; values: ApplicationFormValues; advancedOpen: boolean }
  | {
      mode: 'edit';
      clientId: string;
      initial: ApplicationFormValues;
      values: ApplicationFormValues;
      advancedOpen: boolean;
    };

const NOUNS: Record<ApplicationType, string> = {
  single_page: 'SPA OAuth client',
  regular_web: 'regular web client',
  machine_to_machine: 'M2M OAuth client',
};

const listApplications = (signal: AbortSignal) =>
  apiRequest<ListAnswer<Application>>('/v3/applications', { signal });

const PURPOSES: Record<ApplicationType, string> = {
  single_page:
    'Browser apps that sign users in with PKCE, like CARTO’s React templates; no secret.',
  regular_web: 'Server-side web apps that sign users in and keep a client secret.',
  machine_to_machine:
    'Scripts and backends that get tokens with client credentials and act for their owner.',
};

const applicationPath = (clientId: string) => `/v3/applications/${encodeURIComponent(clientId)}`;

interface Revealed {
  app: Application;
  rotated: boolean;
}

interface ApplicationsTabProps {
  type: ApplicationType;
  /** Told whether a secret, shown only once, is on screen (to ask before leaving the tab). */
  onSecretShown: (shown: boolean) => void;
}

/**
 * One kind of OAuth client: its list, the create and edit form, rotation and deletion. A
 * secret stays on screen until its Done, whatever else is opened meanwhile.
 */
export function ApplicationsTab({ type, onSecretShown }: ApplicationsTabProps) {
  const canRead = useCan('read:apps');
  const canWrite = useCan('write:apps');
  const noun = NOUNS[type];
  const list = useResource(canRead ? 'applications' : null, listApplications);
  const [editor, setEditor] = useDraft<Editor>(`applications.${type}`, { mode: 'closed' });
  const [errors, setErrors] = useState<ApplicationFormErrors>({});
  const [revealed, setRevealed] = useState<readonly Revealed[]>([]);
  const [confirm, setConfirm] = useState<{ kind: 'delete' | 'rotate'; app: Application } | null>(
    null,
  );
  const submit = useSubmit();
  const createButton = useRef<HTMLButtonElement>(null);
  const listTitle = useRef<HTMLHeadingElement>(null);
  const focusBack = useFocusAfterRender([createButton, listTitle]);
  const secretShown = revealed.length > 0;
  useEffect(() => {
    onSecretShown(secretShown);
    return () => onSecretShown(false);
  }, [secretShown, onSecretShown]);
  const reveal = (shown: Revealed) =>
    // A rotation makes the secret shown before for the same client useless: it is replaced.
    setRevealed((items) => [
      ...items.filter((item) => item.app.client_id !== shown.app.client_id),
      shown,
    ]);
  const applications = (list.data?.data ?? []).filter((app) => app.type === type);

  if (!canRead) {
    return <p className="notice">Your role cannot see OAuth clients.</p>;
  }

  const openCreate = () => {
    setErrors({});
    submit.setError(null);
    setEditor({ mode: 'create', values: emptyApplicationForm(type), advancedOpen: false });
  };
  const openEdit = (app: Application) => {
    setErrors({});
    submit.setError(null);
    const values = applicationFormOf(app);
    setEditor({
      mode: 'edit',
      clientId: app.client_id,
      initial: values,
      values,
      advancedOpen: true,
    });
  };

  const save = () => {
    if (editor.mode === 'closed') return;
    const problems = checkApplicationForm(editor.values);
    setErrors(problems);
    if (Object.keys(problems).length > 0) return focusFirstInvalid();
    void submit.run(async () => {
      if (editor.mode === 'create') {
        const created = await apiRequest<Application>('/v3/applications', {
          method: 'POST',
          body: newApplicationBody(editor.values),
        });
        reveal({ app: created, rotated: false });
      } else {
        const body = changedApplicationBody(editor.initial, editor.values);
        if (Object.keys(body).length > 0) {
          const updated = await apiRequest<Application>(applicationPath(editor.clientId), {
            method: 'PATCH',
            body,
          });
          // A public client turned into one with a secret gets it in this answer only.
          if (updated.client_secret) reveal({ app: updated, rotated: true });
          else focusBack();
        } else {
          focusBack();
        }
      }
      setEditor({ mode: 'closed' });
      list.reload();
    });
  };

  const rotate = async (app: Application) => {
    const rotatedApp = await apiRequest<Application>(`${applicationPath(app.client_id)}/secret`, {
      method: 'POST',
    });
    setConfirm(null);
    reveal({ app: rotatedApp, rotated: true });
  };
  const remove = async (app: Application) => {
    await apiRequest<void>(applicationPath(app.client_id), { method: 'DELETE' });
    setConfirm(null);
    setRevealed((shown) => shown.filter((item) => item.app.client_id !== app.client_id));
    focusBack();
    list.reload();
  };

  return (
    <div className="stack">
      <div className="toolbar">
        <h2 className="toolbar-title" ref={listTitle} tabIndex={-1}>
          {`${noun[0]!.toUpperCase()}${noun.slice(1)}s`}
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
      <p className="page-lead">{PURPOSES[type]}</p>
      {!canWrite && <p className="notice">Your role can see OAuth clients but not change them.</p>}

      {revealed.map((shown) => (
        <RevealedSecret
          key={`${shown.app.client_id}:${shown.app.client_secret ?? ''}`}
          {...shown}
          onDone={() => {
            setRevealed((items) => items.filter((item) => item !== shown));
            focusBack();
          }}
        />
      ))}

      {editor.mode !== 'closed' && (
        <ApplicationForm
          title={editor.mode === 'create' ? `New ${noun}` : `Edit ${editor.values.name || noun}`}
          submitLabel={editor.mode === 'create' ? 'Create' : 'Save changes'}
          creating={editor.mode === 'create'}
          values={editor.values}
          onChange={(values) => {
            setErrors(withoutChangedFields(errors, editor.values, values));
            setEditor({ ...editor, values });
          }}
          advancedOpen={editor.advancedOpen}
          onAdvancedToggle={(open) => setEditor({ ...editor, advancedOpen: open })}
          errors={errors}
          serverError={submit.error}
          busy={submit.busy}
          onSubmit={save}
          onCancel={() => {
            setEditor({ mode: 'closed' });
            focusBack();
          }}
        />
      )}

      <ErrorNote message={list.error} />
      {list.loading && !list.data ? (
        <p role="status">Loading…</p>
      ) : applications.length === 0 ? (
        <p className="empty">No {noun}s yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="table table-list">
            <caption className="visually-hidden">{`${noun}s`}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Client ID</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {applications.map((app) => (
                <tr key={app.client_id}>
                  <td>
                    <span className="cell-title">{app.name}</span>
                    {app.description && <span className="cell-sub">{app.description}</span>}
                  </td>
                  <td>
                    <code className="id">{app.client_id}</code>{' '}
                    <CopyButton value={app.client_id} what={`client id of ${app.name}`} />
                  </td>
                  <td>{formatDate(app.created_at)}</td>
                  <td className="actions">
                    {canWrite && (
                      <>
                        <button
                          type="button"
                          className="button button-small"
                          onClick={() => openEdit(app)}
                          aria-label={`Edit ${app.name}`}
                        >
                          Edit
                        </button>
                        {app.token_endpoint_auth_method !== 'none' && (
                          <button
                            type="button"
                            className="button button-small"
                            onClick={() => setConfirm({ kind: 'rotate', app })}
                            aria-label={`Rotate secret of ${app.name}`}
                          >
                            Rotate secret
                          </button>
                        )}
                        <button
                          type="button"
                          className="button button-small button-danger"
                          onClick={() => setConfirm({ kind: 'delete', app })}
                          aria-label={`Delete ${app.name}`}
                        >
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {confirm?.kind === 'rotate' && (
        <ConfirmDialog
          title="Rotate the client secret?"
          confirmLabel="Rotate secret"
          onConfirm={() => rotate(confirm.app)}
          onClose={() => setConfirm(null)}
        >
          <p>
            <strong>{confirm.app.name}</strong> gets a new secret, shown once. The current secret
            stops working at once; tokens already issued stay valid until they expire.
          </p>
        </ConfirmDialog>
      )}
      {confirm?.kind === 'delete' && (
        <ConfirmDialog
          title={`Delete ${confirm.app.name}?`}
          confirmLabel="Delete"
          danger
          onConfirm={() => remove(confirm.app)}
          onClose={() => setConfirm(null)}
        >
          <p>
            The application <strong>{confirm.app.name}</strong> (
            <code>{confirm.app.client_id}</code>) is deleted and its secret stops working at once.
            This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function RevealedSecret({
  app,
  rotated,
  onDone,
}: {
  app: Application;
  rotated: boolean;
  onDone: () => void;
}) {
  const values = [{ label: 'Client ID', value: app.client_id }];
  if (app.client_secret) values.push({ label: 'Client secret', value: app.client_secret });
  const notice = app.client_secret ? (
    <p>
      <strong>Copy the client secret now.</strong> It is shown only this once: Graticule keeps only
      a hash of it. If it is lost, rotate it to get a new one.
    </p>
  ) : (
    <p>
      This single-page application is a public client: it has no secret and signs users in with
      PKCE.
    </p>
  );
  return (
    <SecretPanel
      title={rotated ? `New secret for ${app.name}` : `${app.name} is created`}
      values={values}
      notice={notice}
      onDone={onDone}
    />
  );
}
