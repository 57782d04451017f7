import { identityErrors } from '../accounts/identity-errors.js';
import { recordActorEvent, type AuditEvent } from '../audit/audit-log.js';
import { generateClientId, generateClientSecret } from '../auth/client-secret.js';
import type { Store } from '../store/store.js';
import type { ApplicationType, TokenEndpointAuthMethod } from '../store/schema.js';
import type { Actor } from '../users/caller.js';
import { errors } from '../http/errors.js';
import {
  applyApplicationChanges,
  readApplicationChanges,
  readNewApplication,
  type ApplicationSettings,
} from './application-settings.js';
import { ApplicationStore, type Application } from './application-store.js';

/** An application as the API shows it; the secret appears only when it is issued. */
export interface ApplicationView {
  client_id: string;
  name: string;
  description: string;
  url: string;
  thumbnail_url: string;
  login_url: string;
  type: ApplicationType;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  callback_urls: string[];
  logout_urls: string[];
  web_origins: string[];
  cors_origins: string[];
  created_at: string;
  updated_at: string;
  /** Shown once: in the answers of creation, rotation and a change that issues a secret. */
  client_secret?: string;
}

function parseList(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function settingsOf(app: Application): ApplicationSettings {
  return {
    name: app.name,
    description: app.description,
    url: app.url,
    thumbnailUrl: app.thumbnail_url,
    loginUrl: app.login_url,
    type: app.app_type,
    tokenEndpointAuthMethod: app.token_endpoint_auth_method,
    callbackUrls: parseList(app.callback_urls),
    logoutUrls: parseList(app.logout_urls),
    webOrigins: parseList(app.web_origins),
    corsOrigins: parseList(app.cors_origins),
  };
}

function viewOf(app: Application): ApplicationView {
  const settings = settingsOf(app);
  return {
    client_id: app.client_id,
    name: settings.name,
    description: settings.description,
    url: settings.url,
    thumbnail_url: settings.thumbnailUrl,
    login_url: settings.loginUrl,
    type: settings.type,
    token_endpoint_auth_method: settings.tokenEndpointAuthMethod,
    callback_urls: settings.callbackUrls,
    logout_urls: settings.logoutUrls,
    web_origins: settings.webOrigins,
    cors_origins: settings.corsOrigins,
    created_at: app.created_at,
    // Applications made before `updated_at` existed have it empty.
    updated_at: app.updated_at || app.created_at,
  };
}

/** The settings keys as the API names them, for the audit log's list of changed fields. */
const FIELD_NAMES: Record<keyof ApplicationSettings, string> = {
  name: 'name',
  description: 'description',
  url: 'url',
  thumbnailUrl: 'thumbnail_url',
  loginUrl: 'login_url',
  type: 'type',
  tokenEndpointAuthMethod: 'token_endpoint_auth_method',
  callbackUrls: 'callback_urls',
  logoutUrls: 'logout_urls',
  webOrigins: 'web_origins',
  corsOrigins: 'cors_origins',
};

function changedFields(before: ApplicationSettings, after: ApplicationSettings): string[] {
  return (Object.keys(FIELD_NAMES) as (keyof ApplicationSettings)[])
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .map((key) => FIELD_NAMES[key]);
}

/** The Applications API's operations, shared by the HTTP routes and the CLI. */
export class ApplicationService {
  private readonly apps: ApplicationStore;

  constructor(private readonly store: Store) {
    this.apps = new ApplicationStore(store);
  }

  private async audit(
    actor: Actor,
    event: AuditEvent,
    clientId: string,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await recordActorEvent(this.store, actor, event, clientId, details);
  }

  /**
   * An application acts with its owner's role, so only its owner or an admin may change it:
   * an editor who could rotate an admin's application would become that admin.
   */
  private async findManageable(actor: Actor, clientId: string): Promise<Application> {
    const app = await this.find(actor.accountId, clientId);
    const isOperator = actor.userId === null;
    if (!isOperator && actor.role !== 'admin' && app.owner_user_id !== actor.userId) {
      throw errors.forbidden("Only the application's owner or an admin may change it");
    }
    return app;
  }

  private async find(accountId: string, clientId: string): Promise<Application> {
    const app = await this.apps.findInAccount(accountId, clientId);
    if (!app) throw identityErrors.applicationNotFound(clientId);
    return app;
  }

  async list(accountId: string): Promise<ApplicationView[]> {
    return (await this.apps.listForAccount(accountId)).map(viewOf);
  }

  async get(accountId: string, clientId: string): Promise<ApplicationView> {
    return viewOf(await this.find(accountId, clientId));
  }

  /** Creates an application owned by `ownerUserId`; its secret is in this answer only. */
  async create(actor: Actor, ownerUserId: string, body: unknown): Promise<ApplicationView> {
    const settings = readNewApplication(body);
    const clientId = generateClientId();
    const clientSecret =
      settings.tokenEndpointAuthMethod === 'none' ? null : generateClientSecret();
    await this.apps.create({
      ...settings,
      clientId,
      clientSecret,
      accountId: actor.accountId,
      ownerUserId,
    });
    await this.audit(actor, 'application.created', clientId, {
      name: settings.name,
      type: settings.type,
      token_endpoint_auth_method: settings.tokenEndpointAuthMethod,
      owner_user_id: ownerUserId,
    });
    const view = await this.get(actor.accountId, clientId);
    return clientSecret === null ? view : { ...view, client_secret: clientSecret };
  }

  /**
   * Changes an application. Turning a public client (`none`) into one with a secret issues a
   * secret, shown in this answer; the reverse drops the secret.
   */
  async update(actor: Actor, clientId: string, body: unknown): Promise<ApplicationView> {
    const changes = readApplicationChanges(body);
    const app = await this.findManageable(actor, clientId);
    const before = settingsOf(app);
    const after = applyApplicationChanges(before, changes);

    await this.apps.update(clientId, after);
    let clientSecret: string | undefined;
    if (before.tokenEndpointAuthMethod === 'none' && after.tokenEndpointAuthMethod !== 'none') {
      clientSecret = generateClientSecret();
      await this.apps.rotateSecret(clientId, clientSecret);
    } else if (
      after.tokenEndpointAuthMethod === 'none' &&
      before.tokenEndpointAuthMethod !== 'none'
    ) {
      await this.apps.rotateSecret(clientId, null);
    }
    await this.audit(actor, 'application.updated', clientId, {
      fields: changedFields(before, after),
      ...(clientSecret === undefined ? {} : { secret_issued: true }),
    });
    const view = await this.get(actor.accountId, clientId);
    return clientSecret === undefined ? view : { ...view, client_secret: clientSecret };
  }

  /** Deletes an application: its secret stops working; tokens already issued run out. */
  async remove(actor: Actor, clientId: string): Promise<void> {
    const app = await this.findManageable(actor, clientId);
    await this.apps.remove(clientId);
    await this.audit(actor, 'application.deleted', clientId, { name: app.name });
  }

  /** Issues a new secret, shown in this answer only; the old one stops working at once. */
  async rotateSecret(actor: Actor, clientId: string): Promise<ApplicationView> {
    const app = await this.findManageable(actor, clientId);
    if (app.token_endpoint_auth_method === 'none') {
      throw identityErrors.applicationHasNoSecret(clientId);
    }
    const clientSecret = generateClientSecret();
    await this.apps.rotateSecret(clientId, clientSecret);
    await this.audit(actor, 'application.secret_rotated', clientId);
    return { ...(await this.get(actor.accountId, clientId)), client_secret: clientSecret };
  }
}
