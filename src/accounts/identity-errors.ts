/**
 * Errors of the identity APIs (applications, users, audit log), in the shape of every other
 * API error: a stable code, an HTTP status and a message. Codes are never reused.
 */
import { ApiError } from '../http/errors.js';

export const identityErrors = {
  applicationNotFound: (clientId: string) =>
    new ApiError(404, 'application_not_found', `Application '${clientId}' not found`),
  /** Rotation asked of an application that authenticates without a secret. */
  applicationHasNoSecret: (clientId: string) =>
    new ApiError(
      409,
      'application_has_no_secret',
      `Application '${clientId}' uses token_endpoint_auth_method 'none' and has no secret`,
    ),
  userNotFound: (userId: string) =>
    new ApiError(404, 'user_not_found', `User '${userId}' not found`),
  emailTaken: (email: string) =>
    new ApiError(409, 'email_taken', `A user with the e-mail '${email}' already exists`),
  /** A change the account's rules forbid: the last admin, your own role, owned assets. */
  userConflict: (message: string) => new ApiError(409, 'user_conflict', message),
  /** The user a token acts for was deleted since the token was issued. */
  callerUnknown: () =>
    new ApiError(401, 'token_invalid', 'Invalid token: the user it acts for no longer exists'),
  accountNotFound: (accountId: string) =>
    new ApiError(404, 'account_not_found', `Account '${accountId}' not found`),
  /** The Accounts API is for the installation's operators only. */
  notOperator: () =>
    new ApiError(
      403,
      'forbidden',
      "Only Admins of the installation's operator account may manage accounts",
    ),
  callerDisabled: () =>
    new ApiError(403, 'user_disabled', 'The user this token acts for is disabled'),
} as const;
