import { ApiError } from '../http/errors.js';

/**
 * Errors of the invitations API beyond the identity ones (src/accounts/identity-errors.ts).
 * Another account's invitation is "not found" too, as are used, revoked and expired ones.
 */
export const invitationErrors = {
  invitationNotFound: (id: string) =>
    new ApiError(404, 'invitation_not_found', `No pending invitation '${id}'`),
  /** Two invitations for one address at once; the other one stands. */
  invitationConflict: (email: string) =>
    new ApiError(
      409,
      'invitation_conflict',
      `Another invitation for '${email}' was created at the same time; list the invitations`,
    ),
} as const;
