import type { ApplicationType } from '../../api/types';
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

/** API access tokens and OAuth clients (applications) of the signed-in user's account. */
export function DevelopersPage({ tab }: { tab: string }) {
  const me = useMe();
  const canReadApps = useCan('read:apps');
  const canReadTokens = useCan('read:tokens');
  const selected = TABS.some((item) => item.id === tab) ? tab : 'tokens';
  const applicationType = APPLICATION_TABS[selected];

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
        <Tabs
          label="Developers"
          tabs={TABS}
          selected={selected}
          onSelect={(id) => navigate(`/developers/${id}`, { replace: true })}
        >
          {applicationType ? (
            <ApplicationsTab key={applicationType} type={applicationType} />
          ) : (
            <TokensTab />
          )}
        </Tabs>
      )}
    </section>
  );
}
