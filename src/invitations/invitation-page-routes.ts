import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONSOLE_PATH } from '../auth/oidc/console-client.js';
import { sendSignInPage, type SignInRoutes } from '../auth/oauth-routes.js';
import type { Store } from '../store/store.js';
import {
  invitationEmailTakenPage,
  invitationFormPage,
  invitationUnusablePage,
} from './invitation-pages.js';
import { ACCEPT_INVITATION_SCHEMA, INVITATION_PAGE_SCHEMA } from './invitation-schemas.js';
import {
  INVITATION_PATH,
  InvitationService,
  type InvitationSummary,
} from './invitation-service.js';

/** The cookie holding the form token, sent back with the form (double submit). */
const CSRF_COOKIE = 'graticule_invitation_form';
const CSRF_COOKIE_MAX_AGE_SECONDS = 3600;
/** Where people sign in once they have joined: the web console starts the sign-in. */
const SIGN_IN_PATH = `${CONSOLE_PATH}/`;

type SecretRequest = FastifyRequest<{ Params: { secret: string } }>;

/** The value of cookie `name` in the request's `Cookie` header, if sent. */
function cookieOf(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const equals = part.indexOf('=');
    if (equals > 0 && part.slice(0, equals).trim() === name) return part.slice(equals + 1).trim();
  }
  return undefined;
}

/** A form field as text, cut to `max` characters; anything else is empty. */
function field(body: unknown, name: string, max: number): string {
  const value = (body as Record<string, unknown> | null | undefined)?.[name];
  return typeof value === 'string' ? value.slice(0, max) : '';
}

function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined || a === '' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * The page an invitation link opens (`/invitations/{secret}`), and its form: the invited
 * person chooses a name and a password, and joins the account. Like the sign-in page it is
 * never cached or framed and runs no script; its posts count against the sign-in rate limit.
 * The form is protected against cross-site posts by a token in a hidden field that must match
 * a `SameSite=Strict` cookie, and by refusing posts browsers mark as cross-site. The path
 * holds the secret: these routes log at `warn` and up only, so it never reaches the log, and
 * the pages send no `Referer`.
 */
export function registerInvitationPageRoutes(
  app: FastifyInstance,
  deps: { store: Store; issuer: () => string; signIn: SignInRoutes },
): void {
  const service = new InvitationService(deps.store);
  const routeOptions = { logLevel: 'warn' } as const;

  const sendPage = (reply: FastifyReply, status: number, html: string) =>
    sendSignInPage(reply.header('Referrer-Policy', 'no-referrer'), status, html);

  const sendForm = (
    request: SecretRequest,
    reply: FastifyReply,
    invitation: InvitationSummary,
    form: { status?: number; name?: string; error?: string } = {},
  ) => {
    const csrf = randomBytes(24).toString('base64url');
    const secure = deps.issuer().startsWith('https:') ? '; Secure' : '';
    reply.header(
      'Set-Cookie',
      `${CSRF_COOKIE}=${csrf}; Path=${INVITATION_PATH}/; Max-Age=${CSRF_COOKIE_MAX_AGE_SECONDS}; ` +
        `HttpOnly; SameSite=Strict${secure}`,
    );
    const action = `${INVITATION_PATH}/${encodeURIComponent(request.params.secret)}`;
    return sendPage(
      reply,
      form.status ?? 200,
      invitationFormPage({ action, invitation, csrf, name: form.name, error: form.error }),
    );
  };

  app.get(
    `${INVITATION_PATH}/:secret`,
    { ...routeOptions, schema: INVITATION_PAGE_SCHEMA },
    async (request: SecretRequest, reply) => {
      const invitation = await service.summary(request.params.secret);
      if (!invitation) return sendPage(reply, 404, invitationUnusablePage());
      return sendForm(request, reply, invitation);
    },
  );

  app.post(
    `${INVITATION_PATH}/:secret`,
    {
      ...routeOptions,
      preHandler: [deps.signIn.signInRateLimit],
      schema: ACCEPT_INVITATION_SCHEMA,
    },
    async (request: SecretRequest, reply) => {
      const { secret } = request.params;
      const invitation = await service.summary(secret);
      if (!invitation) return sendPage(reply, 404, invitationUnusablePage());
      const name = field(request.body, 'name', 1024);
      const crossSite = request.headers['sec-fetch-site'] === 'cross-site';
      if (
        crossSite ||
        !sameToken(cookieOf(request, CSRF_COOKIE), field(request.body, 'csrf', 64))
      ) {
        return sendForm(request, reply, invitation, {
          status: 403,
          name,
          error: 'This form has expired or was sent from another site. Please send it again.',
        });
      }
      const password = field(request.body, 'password', 1024);
      if (password !== field(request.body, 'password_repeat', 1024)) {
        return sendForm(request, reply, invitation, {
          status: 400,
          name,
          error: 'The two passwords differ. Type the same password twice.',
        });
      }

      const outcome = await service.accept(secret, { name, password }, request.ip);
      if (outcome.status === 'unusable') return sendPage(reply, 404, invitationUnusablePage());
      if (outcome.status === 'email_taken') {
        return sendPage(reply, 409, invitationEmailTakenPage(SIGN_IN_PATH));
      }
      if (outcome.status === 'invalid') {
        const message = outcome.message.charAt(0).toUpperCase() + outcome.message.slice(1);
        return sendForm(request, reply, invitation, { status: 400, name, error: `${message}.` });
      }
      request.log.info({ userId: outcome.userId }, 'invitation accepted');
      return reply
        .header('Set-Cookie', `${CSRF_COOKIE}=; Path=${INVITATION_PATH}/; Max-Age=0`)
        .header('Referrer-Policy', 'no-referrer')
        .header('Cache-Control', 'no-store')
        .redirect(SIGN_IN_PATH, 303);
    },
  );
}
