/** The checks of the bodies that create and change a user of an account. */
import { passwordProblem } from '../auth/password.js';
import { ROLES } from '../auth/permissions.js';
import { errors } from '../http/errors.js';
import type { UserRole } from '../store/schema.js';

export interface NewUserInput {
  email: string;
  name: string;
  role: UserRole;
  /** Absent: the user cannot log in with a password until one is set. */
  password?: string;
}

export interface UserChanges {
  name?: string;
  role?: UserRole;
  password?: string;
  disabled?: boolean;
}

const MAX_EMAIL_LENGTH = 254;
const MAX_NAME_LENGTH = 255;
/**
 * A pragmatic e-mail shape: one `@`, no spaces or control characters, a dot-free or dotted
 * domain of host-name characters. Deliverability is not ours to judge.
 */
// eslint-disable-next-line no-control-regex
const EMAIL_PATTERN = /^[^\s@\u0000-\u001f\u007f]+@[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

type Fields = Record<string, unknown>;

function readObject(body: unknown, allowed: readonly string[]): Fields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.malformedBody('expected a JSON object');
  }
  const unknown = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknown !== undefined) throw errors.invalidParameter(unknown, 'not a field of a user');
  return body as Fields;
}

/** A checked, lower-cased e-mail address. */
export function checkEmail(value: unknown, name = 'email'): string {
  if (value === undefined || value === null || value === '') throw errors.missingParameter(name);
  if (typeof value !== 'string') throw errors.invalidParameter(name, 'expected a string');
  const email = value.trim().toLowerCase();
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_PATTERN.test(email)) {
    throw errors.invalidParameter(name, 'not an e-mail address');
  }
  return email;
}

/** One of admin, editor and viewer. */
export function checkRole(value: unknown, name = 'role'): UserRole {
  if (typeof value !== 'string' || !ROLES.includes(value as UserRole)) {
    throw errors.invalidParameter(name, `expected one of ${ROLES.join(', ')}`);
  }
  return value as UserRole;
}

/** A password long enough and not too long, or a 400 naming the rule. */
export function checkPassword(value: unknown, name = 'password'): string {
  if (typeof value !== 'string') throw errors.invalidParameter(name, 'expected a string');
  const problem = passwordProblem(value);
  if (problem !== null) throw errors.invalidParameter(name, problem);
  return value;
}

function checkName(value: unknown): string {
  if (typeof value !== 'string') throw errors.invalidParameter('name', 'expected a string');
  if (value.trim() === '') throw errors.invalidParameter('name', 'must not be empty');
  if (value.length > MAX_NAME_LENGTH) {
    throw errors.invalidParameter('name', `longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (CONTROL_CHARACTERS.test(value)) {
    throw errors.invalidParameter('name', 'must not contain control characters');
  }
  return value;
}

/** A new user from a request body; the name defaults to the e-mail's local part. */
export function readNewUser(body: unknown): NewUserInput {
  const fields = readObject(body, ['email', 'name', 'role', 'password']);
  const email = checkEmail(fields.email);
  if (fields.role === undefined) throw errors.missingParameter('role');
  const input: NewUserInput = {
    email,
    name: fields.name === undefined ? email.split('@')[0]! : checkName(fields.name),
    role: checkRole(fields.role),
  };
  if (fields.password !== undefined) input.password = checkPassword(fields.password);
  return input;
}

/** The fields a PATCH body changes. */
export function readUserChanges(body: unknown): UserChanges {
  const fields = readObject(body, ['name', 'role', 'password', 'disabled']);
  const changes: UserChanges = {};
  if (fields.name !== undefined) changes.name = checkName(fields.name);
  if (fields.role !== undefined) changes.role = checkRole(fields.role);
  if (fields.password !== undefined) changes.password = checkPassword(fields.password);
  if (fields.disabled !== undefined) {
    if (typeof fields.disabled !== 'boolean') {
      throw errors.invalidParameter('disabled', 'expected true or false');
    }
    changes.disabled = fields.disabled;
  }
  if (Object.keys(changes).length === 0) throw errors.malformedBody('nothing to change');
  return changes;
}
