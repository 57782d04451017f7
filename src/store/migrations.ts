import {
  type CreateTableBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  sql,
} from 'kysely';
import { dialectOf } from './store-dialect.js';

/**
 * The auto-numbered `seq` key (queue and log order). SQLite: an integer rowid alias with
 * AUTOINCREMENT, so numbers are never reused. PostgreSQL: a bigint identity column; the
 * store's pool reads bigint as a number.
 */
function addSequenceKey<T extends string>(
  db: Kysely<unknown>,
  table: CreateTableBuilder<T, never>,
): CreateTableBuilder<T, 'seq'> {
  return dialectOf(db) === 'postgres'
    ? table.addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    : table.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
}

/**
 * Epoch seconds: SQLite's integer holds 64 bits; PostgreSQL's `integer` is 32-bit and would
 * overflow in 2038, so there it is a bigint.
 */
function epochSecondsType(db: Kysely<unknown>): 'integer' | 'bigint' {
  return dialectOf(db) === 'postgres' ? 'bigint' : 'integer';
}

/**
 * Schema migrations of the metadata store, in order. A migration, once released, never
 * changes; a new change is a new entry. They run on SQLite and on PostgreSQL: where the two
 * need different types a migration branches on the dialect, and SQLite's branch is exactly
 * what was released (`sqlite-schema.snapshot.sql` holds the schema it makes). Text columns
 * hold timestamps as ISO-8601 strings and JSON as text on both.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('applications')
        .addColumn('client_id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('owner_user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('url', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('app_type', 'text', (c) => c.notNull())
        .addColumn('token_endpoint_auth_method', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('private_jwk', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('retired_at', 'text')
        .execute();
      await db.schema
        .createTable('connections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('connections_account_name', ['account_id', 'name'])
        .execute();
      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002_connection_credentials': {
    async up(db: Kysely<unknown>) {
      // Secrets live apart from the readable settings, encrypted, so no query of `config`
      // can ever return them.
      await db.schema.alterTable('connections').addColumn('credentials', 'text').execute();
      await db.schema
        .alterTable('connections')
        .addColumn('updated_at', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
    },
  },
  '0003_sql_jobs': {
    async up(db: Kysely<unknown>) {
      await addSequenceKey(db, db.schema.createTable('sql_jobs'))
        .addColumn('external_id', 'text', (c) => c.notNull().unique())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('connection_name', 'text', (c) => c.notNull())
        .addColumn('connection_provider', 'text', (c) => c.notNull())
        .addColumn('query', 'text', (c) => c.notNull())
        .addColumn('query_parameters', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('error_message', 'text')
        .addColumn('error_code', 'text')
        .addColumn('metadata', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('node_id', 'text')
        .addColumn('node_incarnation', 'text')
        .addColumn('lease_expires_at', 'text')
        .execute();
      // Lists read an account's jobs newest first; workers look for the oldest pending one and
      // for running ones whose lease ran out.
      await db.schema
        .createIndex('sql_jobs_account_seq')
        .on('sql_jobs')
        .columns(['account_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('sql_jobs_status_seq')
        .on('sql_jobs')
        .columns(['status', 'seq'])
        .execute();
    },
  },
  '0004_public_maps': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('saved_maps')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('privacy', 'text', (c) => c.notNull())
        .addColumn('datasets', 'text', (c) => c.notNull())
        .addColumn('kepler_map_config', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      // Lists read an account's maps, most recently changed first.
      await db.schema
        .createIndex('saved_maps_account_updated')
        .on('saved_maps')
        .columns(['account_id', 'updated_at'])
        .execute();
    },
  },
  '0005_identity': {
    async up(db: Kysely<unknown>) {
      // Local password login: the hash (scrypt, PHC-like string) and the lockout state.
      for (const [name, type] of [
        ['password_hash', 'text'],
        ['locked_until', 'text'],
        ['disabled_at', 'text'],
      ] as const) {
        await db.schema.alterTable('users').addColumn(name, type).execute();
      }
      await db.schema
        .alterTable('users')
        .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('users')
        .addColumn('updated_at', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      // The Developers section's advanced settings; URL lists are JSON arrays of strings.
      for (const name of [
        'thumbnail_url',
        'login_url',
        'callback_urls',
        'logout_urls',
        'web_origins',
        'cors_origins',
      ]) {
        const empty = name.endsWith('_urls') || name.endsWith('_origins') ? '[]' : '';
        await db.schema
          .alterTable('applications')
          .addColumn(name, 'text', (c) => c.notNull().defaultTo(empty))
          .execute();
      }
      await db.schema
        .alterTable('applications')
        .addColumn('updated_at', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema.alterTable('applications').addColumn('secret_rotated_at', 'text').execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('grants', 'text', (c) => c.notNull())
        .addColumn('allowed_apis', 'text', (c) => c.notNull())
        .addColumn('referers', 'text', (c) => c.notNull())
        .addColumn('expiration_date', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('api_tokens_account_creator')
        .on('api_tokens')
        .columns(['account_id', 'created_by'])
        .execute();

      await addSequenceKey(db, db.schema.createTable('audit_events'))
        .addColumn('account_id', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('ip', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema
        .createIndex('audit_events_account_seq')
        .on('audit_events')
        .columns(['account_id', 'seq'])
        .execute();

      // What the OAuth server keeps between requests (sessions, interactions, codes, grants),
      // in the shared store so any node can continue a flow another node started.
      await db.schema
        .createTable('oauth_records')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'text')
        .addColumn('uid', 'text')
        .addColumn('user_code', 'text')
        .addColumn('expires_at', epochSecondsType(db))
        .addColumn('consumed_at', epochSecondsType(db))
        .addPrimaryKeyConstraint('oauth_records_pk', ['kind', 'id'])
        .execute();
      await db.schema
        .createIndex('oauth_records_grant')
        .on('oauth_records')
        .column('grant_id')
        .execute();
      await db.schema.createIndex('oauth_records_uid').on('oauth_records').column('uid').execute();
      await db.schema
        .createIndex('oauth_records_expiry')
        .on('oauth_records')
        .column('expires_at')
        .execute();
    },
  },
  '0006_invitations': {
    async up(db: Kysely<unknown>) {
      // Invitations to join an account. The link's secret is stored as its SHA-256 only; an
      // invitation is used once (`accepted_at`), withdrawn (`revoked_at`) or expires.
      await db.schema
        .createTable('invitations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('invited_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('accepted_at', 'text')
        .addColumn('accepted_user_id', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      // At most one open invitation per address in an account: a new one replaces the old,
      // and two admins inviting at once cannot leave two links behind.
      await db.schema
        .createIndex('invitations_open_email')
        .on('invitations')
        .columns(['account_id', 'email'])
        .unique()
        .where(sql.ref('accepted_at'), 'is', null)
        .where(sql.ref('revoked_at'), 'is', null)
        .execute();
      await db.schema
        .createIndex('invitations_account_created')
        .on('invitations')
        .columns(['account_id', 'created_at'])
        .execute();
    },
  },
  '0007_operator_account': {
    async up(db: Kysely<unknown>) {
      // The installation's operator account: the one the first start bootstraps. Its Admins
      // create and list accounts over HTTP. At most one account carries the flag.
      await db.schema
        .alterTable('accounts')
        .addColumn('operator', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('accounts_operator')
        .on('accounts')
        .column('operator')
        .unique()
        .where(sql<boolean>`${sql.ref('operator')} = 1`)
        .execute();
      // A store made before the flag: its bootstrap account is the one created first, the
      // account every start so far has taken for it.
      await sql`UPDATE accounts SET "operator" = 1
                 WHERE id = (SELECT id FROM accounts ORDER BY created_at, id LIMIT 1)`.execute(db);
      // A link made for an existing user without a password (the first Admin of an account
      // created through the API): accepting it sets that user's password instead of adding a
      // user. Null for an invitation to join.
      await db.schema.alterTable('invitations').addColumn('user_id', 'text').execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
