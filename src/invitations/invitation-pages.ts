/** HTML of the invitation page, in the look of the sign-in page (plain, no script). */
import { escapeHtml, page } from '../auth/oidc/pages.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/password.js';
import type { InvitationSummary } from './invitation-service.js';

export interface InvitationFormInput {
  action: string;
  invitation: InvitationSummary;
  /** The form token, also set as a cookie; both must come back. */
  csrf: string;
  name?: string;
  error?: string;
}

const ROLE_NAMES = { admin: 'an Admin', editor: 'an Editor', viewer: 'a Viewer' } as const;

/** The form that accepts an invitation: a name and a password, typed twice. */
export function invitationFormPage(input: InvitationFormInput): string {
  const { invitation } = input;
  const error = input.error
    ? `<p class="error" role="alert" id="invitation-error">${escapeHtml(input.error)}</p>`
    : '';
  const describedBy = input.error ? ' aria-describedby="invitation-error"' : '';
  const account = invitation.accountName || 'a Graticule account';
  return page(
    'Accept the invitation',
    `<h1>Join ${escapeHtml(account)}</h1>
<p class="lead">as ${ROLE_NAMES[invitation.role]}, signing in as
<strong>${escapeHtml(invitation.email)}</strong></p>
${error}
<form method="post" action="${escapeHtml(input.action)}" autocomplete="on">
  <input type="hidden" name="csrf" value="${escapeHtml(input.csrf)}">
  <input type="hidden" name="email" autocomplete="username"
    value="${escapeHtml(invitation.email)}">
  <label for="name">Your name</label>
  <input id="name" name="name" type="text" maxlength="255" autocomplete="name" autofocus
    value="${escapeHtml(input.name ?? '')}"${describedBy}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required
    minlength="${MIN_PASSWORD_LENGTH}" maxlength="${MAX_PASSWORD_LENGTH}"
    autocomplete="new-password"${describedBy}>
  <label for="password_repeat">Password again</label>
  <input id="password_repeat" name="password_repeat" type="password" required
    minlength="${MIN_PASSWORD_LENGTH}" maxlength="${MAX_PASSWORD_LENGTH}"
    autocomplete="new-password"${describedBy}>
  <button type="submit">Join</button>
</form>`,
  );
}

/**
 * The page of a link that cannot be used. Unknown, used, revoked and expired links all get
 * this same page, so it tells nothing about which invitations exist or were used.
 */
export function invitationUnusablePage(): string {
  return page(
    'Invitation not valid',
    `<h1>This invitation cannot be used</h1>
<p class="error" role="alert">The link is not valid: it may have expired, been used already or
been withdrawn.</p>
<p class="lead">Ask an administrator of the account for a new invitation.</p>`,
  );
}

/** The page for an address that became a user's after the invitation was made. */
export function invitationEmailTakenPage(signInPath: string): string {
  return page(
    'Already a user',
    `<h1>You already have a user</h1>
<p class="error" role="alert">A user with this e-mail address exists already, so the
invitation cannot make another one.</p>
<p class="lead"><a href="${escapeHtml(signInPath)}">Sign in</a> with that user instead.</p>`,
  );
}
