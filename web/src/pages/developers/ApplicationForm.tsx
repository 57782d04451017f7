import type { FormEvent } from 'react';
import type { ApplicationType, AuthMethod } from '../../api/types';
import { ErrorNote } from '../../components/ErrorNote';
import { SelectField, TextField } from '../../components/fields';
import { useFocusFirstField } from '../../hooks';
import {
  AUTH_METHOD_LABELS,
  TYPE_LABELS,
  defaultAuthMethod,
  type ApplicationFormErrors,
  type ApplicationFormValues,
} from './application-rules';

interface ApplicationFormProps {
  title: string;
  submitLabel: string;
  values: ApplicationFormValues;
  onChange: (values: ApplicationFormValues) => void;
  advancedOpen: boolean;
  onAdvancedToggle: (open: boolean) => void;
  errors: ApplicationFormErrors;
  serverError: string | null;
  busy: boolean;
  /** Creating: empty lists take the defaults of the application URL. */
  creating: boolean;
  onSubmit: () => void;
  onCancel: () => void;
}

const TYPES = Object.entries(TYPE_LABELS).map(([value, label]) => ({
  value: value as ApplicationType,
  label,
}));

/** Name, description and URL, and the Advanced Settings of CARTO's (and Auth0's) form. */
export function ApplicationForm(props: ApplicationFormProps) {
  const { values, errors } = props;
  const set = <K extends keyof ApplicationFormValues>(key: K, value: ApplicationFormValues[K]) =>
    props.onChange({ ...values, [key]: value });
  const signsUsersIn = values.type !== 'machine_to_machine';
  const authMethods = (Object.keys(AUTH_METHOD_LABELS) as AuthMethod[]).map((method) => ({
    value: method,
    label: AUTH_METHOD_LABELS[method],
    disabled: method === 'none' && values.type !== 'single_page',
  }));
  const listHint = (what: string) =>
    props.creating ? `One ${what} a line. Left empty, it follows the application URL.` : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onSubmit();
  };
  const formRef = useFocusFirstField<HTMLFormElement>();

  return (
    <form ref={formRef} className="card form" onSubmit={submit} noValidate aria-label={props.title}>
      <h2 className="card-title">{props.title}</h2>
      <TextField
        label="Name"
        required
        value={values.name}
        onChange={(value) => set('name', value)}
        error={errors.name}
        spellCheck
      />
      <TextField
        label="Description"
        rows={2}
        value={values.description}
        onChange={(value) => set('description', value)}
        error={errors.description}
        spellCheck
      />
      <TextField
        label="Application URL"
        type="url"
        value={values.url}
        onChange={(value) => set('url', value)}
        error={errors.url}
        placeholder="https://maps.example.com/app"
        hint="Where the application lives: https, or http on localhost."
      />
      <details
        className="advanced"
        open={props.advancedOpen}
        onToggle={(event) => props.onAdvancedToggle(event.currentTarget.open)}
      >
        <summary>Advanced Settings</summary>
        <div className="advanced-body">
          <SelectField
            label="Application type"
            value={values.type}
            options={TYPES}
            onChange={(type) =>
              props.onChange({ ...values, type, authMethod: defaultAuthMethod(type) })
            }
          />
          <SelectField
            label="Token endpoint authentication method"
            value={values.authMethod}
            options={authMethods}
            onChange={(method) => set('authMethod', method)}
            error={errors.authMethod}
          />
          {signsUsersIn ? (
            <>
              <TextField
                label="Allowed Callback URLs"
                rows={3}
                monospace
                value={values.callbackUrls}
                onChange={(value) => set('callbackUrls', value)}
                error={errors.callbackUrls}
                hint={listHint('URL')}
              />
              <TextField
                label="Allowed Logout URLs"
                rows={2}
                monospace
                value={values.logoutUrls}
                onChange={(value) => set('logoutUrls', value)}
                error={errors.logoutUrls}
                hint={listHint('URL')}
              />
              <TextField
                label="Allowed Web Origins"
                rows={2}
                monospace
                value={values.webOrigins}
                onChange={(value) => set('webOrigins', value)}
                error={errors.webOrigins}
                hint={listHint('origin (scheme://host[:port])')}
              />
              <TextField
                label="Allowed Origins (CORS)"
                rows={2}
                monospace
                value={values.corsOrigins}
                onChange={(value) => set('corsOrigins', value)}
                error={errors.corsOrigins}
                hint={listHint('origin (scheme://host[:port])')}
              />
            </>
          ) : (
            <p className="field-hint">
              Machine to Machine applications sign nobody in: they need no callback, logout or
              origin URLs.
            </p>
          )}
        </div>
      </details>
      <ErrorNote message={props.serverError} />
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={props.busy}>
          {props.busy ? 'Saving…' : props.submitLabel}
        </button>
        <button type="button" className="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
