import { hashClientSecret, verifyClientSecret } from './client-secret.js';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

/** Why a new password is not acceptable, or null when it is. */
export function passwordProblem(password: string): string | null {
  // Characters as people count them (and as the API's schemas do), not UTF-16 units.
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return `a password has at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  if (password.trim() === '') return 'a password cannot be only blanks';
  return null;
}

/** Passwords are hashed like client secrets: scrypt with a random salt per hash. */
export const hashPassword = hashClientSecret;
export const verifyPassword = verifyClientSecret;
