import { ApiError } from '../http/errors.js';

/**
 * Errors of the Tokens API beyond the shared ones in src/http/errors.ts. A token of another
 * caller or account is "not found" too, so token ids do not leak. The message never repeats
 * the path key: it may be the token string itself.
 */
export const tokenErrors = {
  tokenNotFound: () => new ApiError(404, 'token_not_found', 'Token not found'),
} as const;
