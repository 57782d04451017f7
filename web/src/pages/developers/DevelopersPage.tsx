import { useState } from 'react';
import type { ApplicationType } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Tabs } from '../../components/Tabs';
import { navigate } from '../../router';
import { ROLE_LABELS, useCan, useMe } from '../../session';
import { ApplicationsTab } from './ApplicationsTab';
import { TokensTab } from './TokensTab';

/** The tabs of CARTO's Developers section, by the names CARTO gives them. */
const TABS = [
  { id: 'tokens', label: 'API Access Tokens' },
  { id: 'spa', label: 'SPA OAuth Clients' },
  { id: 'web', label: 'Regular Web Clients' },
  { id: 'm2m', label: 'M2M OAuth Clients' },
] as const;

const APPLICATION_TABS: Record<string, ApplicationType> = {
  spa: 'single_page',
  web: 'regular_web',
  m2m: 'machine_to_machine',
};

/**
 * API access tokens and OAuth clients (applications) of the signed-in user's account. Leaving
 * a tab that still shows a secret (shown only once) asks first.
 */
export function DevelopersPage({ tab }: { tab: string }) {
  const me = useMe();
  const canReadApps = useCan('read:apps');
  const canReadTokens = useCan('read:tokens');
  const selected = TABS.some((item) => item.id === tab) ? tab : 'tokens';
  const applicationType = APPLICATION_TABS[selected];
  const [secretShown, setSecretShown] = useState(false);
  const [leavingFor, setLeavingFor] = useState<string | null>(null);
  const open = (id: string) => navigate(`/developers/${id}`, { replace: true });
  const select = (id: string) => {
    if (id === selected) return;
    if (secretShown) setLeavingFor(id);
    else open(id);
  };

  return (
    <section className="page" aria-labelledby="developers-title">
      <h1 id="developers-title">Developers</h1>
      <p className="page-lead">
        Credentials for the apps you build on this server: API access tokens for public web maps,
        and OAuth clients that sign users in or act as a machine.
      </p>
      {!canReadApps && !canReadTokens ? (
        <p className="notice">
          Your role ({ROLE_LABELS[me.role]}) cannot manage tokens or OAuth clients. An Admin of{' '}
          {me.account_name || 'your account'} can make you an Editor.
        </p>
      ) : (
        <Tabs label="Developers" tabs={TABS} selected={selected} onSelect={select}>
          {applicationType ? (
            <ApplicationsTab
              key={applicationType}
              type={applicationType}
              onSecretShown={setSecretShown}
            />
          ) : (
            <TokensTab onSecretShown={setSecretShown} />
          )}
        </Tabs>
      )}
      {leavingFor && (
        <ConfirmDialog
          title="Leave without the secret?"
          confirmLabel="Leave this tab"
          danger
          onConfirm={() => {
            setLeavingFor(null);
            open(leavingFor);
            return Promise.resolve();
          }}
          onClose={() => setLeavingFor(null)}
        >
          <p>
            This tab shows a secret or token that is shown only once. Once you leave, it cannot be
            shown again: copy it first, or rotate the secret (or create a new token) later.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
