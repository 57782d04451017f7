import type { FormEvent } from 'react';
import type { ApiName, Connection } from '../../api/types';
import { ErrorNote } from '../../components/ErrorNote';
import { Checkbox, TextField } from '../../components/fields';
import { useFocusFirstField } from '../../hooks';
import { GrantPicker } from './GrantPicker';
import { API_LABELS, API_NAMES, type TokenFormErrors, type TokenFormValues } from './token-rules';

interface TokenFormProps {
  connections: readonly Connection[];
  values: TokenFormValues;
  onChange: (values: TokenFormValues) => void;
  errors: TokenFormErrors;
  serverError: string | null;
  busy: boolean;
  onSubmit: () => void;
  onCancel: () => void;
}

/** A new API access token: grants, allowed APIs, referers and an expiration date. */
export function TokenForm(props: TokenFormProps) {
  const { values, errors } = props;
  const set = <K extends keyof TokenFormValues>(key: K, value: TokenFormValues[K]) =>
    props.onChange({ ...values, [key]: value });
  const toggleApi = (api: ApiName, checked: boolean) => {
    const others = values.allowedApis.filter((item) => item !== api);
    set('allowedApis', checked ? [...others, api] : others);
  };

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
      aria-label="New API access token"
    >
      <h2 className="card-title">New API access token</h2>
      <TextField
        label="Name"
        value={values.name}
        onChange={(value) => set('name', value)}
        error={errors.name}
        hint="Optional; unique among your tokens."
        spellCheck
      />
      <GrantPicker
        connections={props.connections}
        connection={values.connection}
        onConnectionChange={(connection) => set('connection', connection)}
        grants={values.grants}
        onGrantsChange={(grants) => set('grants', grants)}
        freeSource={values.freeSource}
        onFreeSourceChange={(source) => set('freeSource', source)}
        error={errors.grants}
      />
      <fieldset
        className="fieldset"
        aria-describedby={errors.allowedApis ? 'token-apis-error' : undefined}
      >
        <legend>Allowed APIs</legend>
        <div className="check-row">
          {API_NAMES.map((api) => (
            <Checkbox
              key={api}
              label={`${API_LABELS[api]} (${api})`}
              checked={values.allowedApis.includes(api)}
              onChange={(checked) => toggleApi(api, checked)}
            />
          ))}
        </div>
        <p className="field-hint">The Imports API cannot be combined with the others.</p>
        {errors.allowedApis && (
          <p id="token-apis-error" className="field-error" role="alert">
            {errors.allowedApis}
          </p>
        )}
      </fieldset>
      <TextField
        label="Referers"
        rows={2}
        monospace
        value={values.referers}
        onChange={(value) => set('referers', value)}
        error={errors.referers}
        placeholder="https://maps.example.com"
        hint="One origin or URL prefix a line (https://*.example.com: subdomains). Empty: any page."
      />
      <TextField
        label="Expiration date"
        type="datetime-local"
        value={values.expiration}
        onChange={(value) => set('expiration', value)}
        error={errors.expiration}
        hint="Your local time. Empty: the token never expires."
      />
      <ErrorNote message={props.serverError} />
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={props.busy}>
          {props.busy ? 'Creating…' : 'Create token'}
        </button>
        <button type="button" className="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
