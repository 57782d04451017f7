import { hashClientSecret, verifyClientSecret } from './client-secret.js';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

/** Why a new password is not acceptable, or null when it is. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `a password has at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  return null;
}

/** Passwords are hashed like client secrets: scrypt with a random salt per hash. */
export const hashPassword = hashClientSecret;
export const verifyPassword = verifyClientSecret;
