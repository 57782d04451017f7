/**
 * Route schemas of the account's invitations (`/v3/account/invitations`) and of the page that
 * accepts one (`/invitations/{secret}`): their documentation in the OpenAPI document. Bodies
 * are read by invitation-service.ts; these schemas describe them and do not validate.
 */
import { Type } from '@sinclair/typebox';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/password.js';
import { ROLES } from '../auth/permissions.js';
import { INVITATION_TTL_DAYS } from './invitation-service.js';

const TAGS = ['Account'];

const Role = Type.Union(
  ROLES.map((role) => Type.Literal(role)),
  { description: 'The role the new user gets', examples: ['viewer'] },
);

const invitationFields = {
  id: Type.String({ examples: ['inv_3f2a9c81d0b4e5f6'] }),
  email: Type.String({ description: 'The invited address, lower-cased' }),
  role: Role,
  invited_by: Type.String({
    description: 'Who invited: a token subject (user id or client id), or `cli`',
  }),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({
    format: 'date-time',
    description: `The link works until then: ${INVITATION_TTL_DAYS} days after the invitation`,
  }),
};

const Invitation = Type.Object(invitationFields, {
  additionalProperties: false,
  description: 'A pending invitation; never its link',
});

const invitationIdParams = Type.Object({
  invitationId: Type.String({
    minLength: 1,
    maxLength: 256,
    description: "The invitation's id",
    examples: ['{{invitationId}}'],
  }),
});

export const LIST_INVITATIONS_SCHEMA = {
  tags: TAGS,
  operationId: 'listInvitations',
  summary: "List the account's pending invitations",
  description:
    'Invitations not yet accepted, revoked or expired, oldest first; never their links. ' +
    'Admins only (`admin:account`).',
  response: {
    200: Type.Object(
      {
        data: Type.Array(Invitation),
        meta: Type.Object({ total: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
      },
      { additionalProperties: false, description: 'The pending invitations' },
    ),
  },
};

export const CREATE_INVITATION_SCHEMA = {
  tags: TAGS,
  operationId: 'createInvitation',
  summary: 'Invite someone by e-mail',
  description:
    'Makes an invitation link to pass on (Graticule sends no mail). Whoever opens it chooses ' +
    'a name and a password and joins the account with the role given. The link is in this ' +
    'answer only. Inviting an address again replaces its pending invitation; an address ' +
    'that already belongs to a user answers 409. Admins only.',
  'x-save': { invitationId: 'id' },
  body: Type.Object(
    {
      email: Type.String({
        maxLength: 254,
        description: 'The address to invite; it becomes the sign-in e-mail',
        examples: ['postman.invitee@example.com'],
      }),
      role: Role,
    },
    {
      additionalProperties: false,
      examples: [{ email: 'postman.invitee.{{$guid}}@example.com', role: 'viewer' }],
    },
  ),
  response: {
    201: Type.Object(
      {
        ...invitationFields,
        invitation_url: Type.String({
          format: 'uri',
          description: 'The link to pass on, holding a one-time secret; shown only in this answer',
        }),
      },
      { additionalProperties: false, description: 'Invited' },
    ),
  },
};

export const REVOKE_INVITATION_SCHEMA = {
  tags: TAGS,
  operationId: 'revokeInvitation',
  summary: 'Revoke an invitation',
  description: 'Withdraws a pending invitation: its link stops working at once. Admins only.',
  params: invitationIdParams,
  response: { 204: { type: 'null', description: 'Revoked' } },
};

/** Operations of the acceptance page: a browser's, not a plain client's. */
const BROWSER_ONLY = { 'x-postman': 'skip' } as const;

const html = (description: string) => ({
  description,
  content: { 'text/html': { schema: Type.String({ description: 'An HTML page' }) } },
});

const secretParams = Type.Object({
  secret: Type.String({ minLength: 1, description: "The invitation link's secret" }),
});

export const INVITATION_PAGE_SCHEMA = {
  tags: ['Auth'],
  operationId: 'showInvitationPage',
  summary: 'Invitation page',
  description:
    'The page an invitation link opens: a form asking for a name and a password. A link ' +
    'that is unknown, used, revoked or expired answers the same 404 page. Browser only.',
  ...BROWSER_ONLY,
  params: secretParams,
  response: {
    200: html('The form'),
    404: html('The link cannot be used'),
  },
};

export const ACCEPT_INVITATION_SCHEMA = {
  tags: ['Auth'],
  operationId: 'acceptInvitation',
  summary: 'Accept an invitation',
  description:
    'Creates the invited user with the name and password given and uses the invitation up; ' +
    'then the browser goes to the web console to sign in. Browser only.',
  ...BROWSER_ONLY,
  params: secretParams,
  consumes: ['application/x-www-form-urlencoded'],
  body: Type.Object({
    name: Type.String({
      maxLength: 255,
      description: "The display name; defaults to the e-mail's local part",
    }),
    password: Type.String({
      minLength: MIN_PASSWORD_LENGTH,
      maxLength: MAX_PASSWORD_LENGTH,
      description: 'The sign-in password',
    }),
    password_repeat: Type.String({ description: 'The same password again' }),
    csrf: Type.String({ description: 'The form token the page holds' }),
  }),
  response: {
    303: {
      type: 'null',
      description: 'Accepted: on to the web console, which signs the user in',
      headers: { Location: { type: 'string', description: 'Where the browser goes next' } },
    },
    400: html('The form again, naming what to fix'),
    403: html('The form again: it was sent from elsewhere or its token has expired'),
    404: html('The link cannot be used'),
    409: html('The address already belongs to a user'),
    429: {
      $ref: 'Error#',
      description: 'Too many forms from this address',
      headers: { 'Retry-After': { type: 'integer', description: 'Seconds to wait' } },
    },
  },
};
