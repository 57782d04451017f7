import { createContext, useContext } from 'react';
import type { Me, Role } from './api/types';

/** The signed-in user, as `/v3/me` answered at sign-in. */
export const SessionContext = createContext<Me | null>(null);

export function useMe(): Me {
  const me = useContext(SessionContext);
  if (!me) throw new Error('useMe outside a signed-in session');
  return me;
}

/**
 * Whether the user's role grants `permission`. The console hides or disables what it does
 * not; the server decides anyway, and its refusals are shown as they come.
 */
export function useCan(permission: string): boolean {
  return useMe().permissions.includes(permission);
}

export const ROLE_LABELS: Record<Role, string> = {
  admin: 'Admin',
  editor: 'Editor',
  viewer: 'Viewer',
};
