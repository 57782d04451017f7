/**
 * Route schema of the account's audit log (`/v3/account/audit`): its documentation in the
 * OpenAPI document. The query string is read by audit-routes.ts; this schema describes it.
 */
import { Type } from '@sinclair/typebox';

const AuditEvent = Type.Object(
  {
    seq: Type.Integer({ minimum: 1, description: 'Increases with every event; pages by it' }),
    at: Type.String({ format: 'date-time' }),
    event: Type.String({
      description:
        'What happened: application.created|updated|deleted|secret_rotated, ' +
        'token.created|updated|revoked, user.created|updated|deleted, ' +
        'invitation.created|revoked|accepted, account.created, ' +
        'login.succeeded|failed|locked, logout, signing_key.rotated',
      examples: ['application.created'],
    }),
    actor: Type.String({
      description: 'Who acted: a token subject (user id or client id), or `anonymous`',
    }),
    target: Type.String({
      description: 'What it is about: a client id, token id or user id; may be empty',
    }),
    ip: Type.String({ description: "The caller's address; may be empty" }),
    details: Type.Object(
      {},
      { additionalProperties: true, description: 'Facts of the event; never a secret' },
    ),
  },
  { additionalProperties: false },
);

export const LIST_AUDIT_EVENTS_SCHEMA = {
  tags: ['Account'],
  operationId: 'listAuditEvents',
  summary: 'Read the audit log',
  description:
    "The account's credential, user and sign-in events, newest first. `meta.next_before` " +
    'pages further back. Admins only (`admin:account`).',
  querystring: Type.Object({
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        default: 100,
        description: 'How many events, 1 to 1000',
        examples: [20],
      }),
    ),
    before: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: "Only events older than this `seq` (the previous page's `next_before`)",
      }),
    ),
    event: Type.Optional(
      Type.String({
        maxLength: 64,
        description: 'Only events of this name',
        examples: ['application.created'],
      }),
    ),
  }),
  response: {
    200: Type.Object(
      {
        data: Type.Array(AuditEvent),
        meta: Type.Object(
          {
            limit: Type.Integer({ minimum: 1 }),
            next_before: Type.Union([Type.Integer(), Type.Null()], {
              description: 'The `before` of the next page; null when this page is the last',
            }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false, description: 'The events' },
    ),
  },
};
