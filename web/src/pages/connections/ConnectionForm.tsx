import type { FormEvent } from 'react';
import type { Provider } from '../../api/types';
import { ErrorNote } from '../../components/ErrorNote';
import { Checkbox, SelectField, TextField } from '../../components/fields';
import { useFocusFirstField } from '../../hooks';
import {
  PROVIDER_LABELS,
  SSL_MODES,
  needsCa,
  switchProvider,
  type ConnectionFormErrors,
  type ConnectionFormValues,
} from './connection-rules';

interface ConnectionFormProps {
  values: ConnectionFormValues;
  onChange: (values: ConnectionFormValues) => void;
  password: string;
  onPasswordChange: (password: string) => void;
  errors: ConnectionFormErrors;
  serverError: string | null;
  busy: boolean;
  testing: boolean;
  testResult: string | null;
  onSubmit: () => void;
  onTest: () => void;
  onCancel: () => void;
}

const PROVIDERS = (Object.keys(PROVIDER_LABELS) as Provider[]).map((value) => ({
  value,
  label: PROVIDER_LABELS[value],
}));

/** A PostgreSQL or Redshift connection: where it is, who signs in, and the session settings. */
export function ConnectionForm(props: ConnectionFormProps) {
  const { values, errors } = props;
  const set = <K extends keyof ConnectionFormValues>(key: K, value: ConnectionFormValues[K]) =>
    props.onChange({ ...values, [key]: value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onSubmit();
  };
  const formRef = useFocusFirstField<HTMLFormElement>();

  return (
    <form
      ref={formRef}
      className="card form"
      onSubmit={submit}
      noValidate
      aria-label="New connection"
    >
      <h2 className="card-title">New connection</h2>
      <div className="form-grid">
        <TextField
          label="Name"
          required
          value={values.name}
          onChange={(value) => set('name', value)}
          error={errors.name}
          hint="3 to 50 of a-z, 0-9, _ and -. Used in API paths: /v3/sql/{name}/query."
        />
        <SelectField
          label="Provider"
          value={values.provider}
          options={PROVIDERS}
          onChange={(provider) => props.onChange(switchProvider(values, provider))}
        />
        <TextField
          label="Host"
          required
          value={values.host}
          onChange={(value) => set('host', value)}
          error={errors.host}
          placeholder="db.example.com"
        />
        <TextField
          label="Port"
          type="number"
          min={1}
          max={65535}
          value={values.port}
          onChange={(value) => set('port', value)}
          error={errors.port}
        />
        <TextField
          label="Database"
          required
          value={values.database}
          onChange={(value) => set('database', value)}
          error={errors.database}
        />
        <TextField
          label="User name"
          required
          value={values.username}
          onChange={(value) => set('username', value)}
          error={errors.username}
          autoComplete="off"
        />
        <TextField
          label="Password"
          required
          type="password"
          value={props.password}
          onChange={props.onPasswordChange}
          error={errors.password}
          autoComplete="new-password"
          hint="Stored encrypted; never shown again."
        />
        <SelectField
          label="SSL mode"
          value={values.sslmode}
          options={SSL_MODES.map((mode) => ({ value: mode, label: mode }))}
          onChange={(mode) => set('sslmode', mode)}
        />
        <TextField
          label="Schema"
          value={values.schema}
          onChange={(value) => set('schema', value)}
          hint="Searched first for unqualified names (optional)."
        />
        <TextField
          label="Pool size"
          type="number"
          min={1}
          max={100}
          value={values.maxConnections}
          onChange={(value) => set('maxConnections', value)}
          error={errors.maxConnections}
          hint="Sessions kept open, 1 to 100 (empty: the server's default)."
        />
      </div>
      {needsCa(values.sslmode) && (
        <TextField
          label="CA certificate (PEM)"
          rows={4}
          monospace
          value={values.ca}
          onChange={(value) => set('ca', value)}
          error={errors.ca}
        />
      )}
      <Checkbox
        label="Read-only sessions"
        checked={values.readOnly}
        onChange={(checked) => set('readOnly', checked)}
        hint="A guard against mistakes, not a security boundary."
      />
      {props.testResult && (
        <p className="notice notice-success" role="status">
          {props.testResult}
        </p>
      )}
      <ErrorNote message={props.serverError} />
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={props.busy}>
          {props.busy && !props.testing ? 'Saving…' : 'Save connection'}
        </button>
        <button type="button" className="button" onClick={props.onTest} disabled={props.busy}>
          {props.testing ? 'Testing…' : 'Test connection'}
        </button>
        <button type="button" className="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
