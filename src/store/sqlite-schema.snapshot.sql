-- index accounts_operator on accounts
CREATE UNIQUE INDEX "accounts_operator" on "accounts" ("operator") where "operator" = 1;

-- index api_tokens_account_creator on api_tokens
CREATE INDEX "api_tokens_account_creator" on "api_tokens" ("account_id", "created_by");

-- index audit_events_account_seq on audit_events
CREATE INDEX "audit_events_account_seq" on "audit_events" ("account_id", "seq");

-- index invitations_account_created on invitations
CREATE INDEX "invitations_account_created" on "invitations" ("account_id", "created_at");

-- index invitations_open_email on invitations
CREATE UNIQUE INDEX "invitations_open_email" on "invitations" ("account_id", "email") where "accepted_at" is null and "revoked_at" is null;

-- index oauth_records_expiry on oauth_records
CREATE INDEX "oauth_records_expiry" on "oauth_records" ("expires_at");

-- index oauth_records_grant on oauth_records
CREATE INDEX "oauth_records_grant" on "oauth_records" ("grant_id");

-- index oauth_records_uid on oauth_records
CREATE INDEX "oauth_records_uid" on "oauth_records" ("uid");

-- index saved_maps_account_updated on saved_maps
CREATE INDEX "saved_maps_account_updated" on "saved_maps" ("account_id", "updated_at");

-- index sql_jobs_account_seq on sql_jobs
CREATE INDEX "sql_jobs_account_seq" on "sql_jobs" ("account_id", "seq");

-- index sql_jobs_status_seq on sql_jobs
CREATE INDEX "sql_jobs_status_seq" on "sql_jobs" ("status", "seq");

-- index sqlite_autoindex_accounts_1 on accounts
(automatic);

-- index sqlite_autoindex_api_tokens_1 on api_tokens
(automatic);

-- index sqlite_autoindex_applications_1 on applications
(automatic);

-- index sqlite_autoindex_connections_1 on connections
(automatic);

-- index sqlite_autoindex_connections_2 on connections
(automatic);

-- index sqlite_autoindex_invitations_1 on invitations
(automatic);

-- index sqlite_autoindex_invitations_2 on invitations
(automatic);

-- index sqlite_autoindex_kysely_migration_1 on kysely_migration
(automatic);

-- index sqlite_autoindex_kysely_migration_lock_1 on kysely_migration_lock
(automatic);

-- index sqlite_autoindex_meta_1 on meta
(automatic);

-- index sqlite_autoindex_oauth_records_1 on oauth_records
(automatic);

-- index sqlite_autoindex_saved_maps_1 on saved_maps
(automatic);

-- index sqlite_autoindex_signing_keys_1 on signing_keys
(automatic);

-- index sqlite_autoindex_sql_jobs_1 on sql_jobs
(automatic);

-- index sqlite_autoindex_users_1 on users
(automatic);

-- index sqlite_autoindex_users_2 on users
(automatic);

-- table accounts on accounts
CREATE TABLE "accounts" ("id" text primary key, "name" text not null, "created_at" text not null, "operator" integer default 0 not null);

-- table api_tokens on api_tokens
CREATE TABLE "api_tokens" ("id" text primary key, "account_id" text not null references "accounts" ("id"), "created_by" text not null, "name" text not null, "grants" text not null, "allowed_apis" text not null, "referers" text not null, "expiration_date" text, "created_at" text not null, "updated_at" text not null);

-- table applications on applications
CREATE TABLE "applications" ("client_id" text primary key, "account_id" text not null references "accounts" ("id"), "owner_user_id" text not null references "users" ("id"), "name" text not null, "description" text default '' not null, "url" text default '' not null, "app_type" text not null, "token_endpoint_auth_method" text not null, "secret_hash" text not null, "created_at" text not null, "thumbnail_url" text default '' not null, "login_url" text default '' not null, "callback_urls" text default '[]' not null, "logout_urls" text default '[]' not null, "web_origins" text default '[]' not null, "cors_origins" text default '[]' not null, "updated_at" text default '' not null, "secret_rotated_at" text);

-- table audit_events on audit_events
CREATE TABLE "audit_events" ("seq" integer primary key autoincrement, "account_id" text, "at" text not null, "event" text not null, "actor" text not null, "target" text default '' not null, "ip" text default '' not null, "details" text default '{}' not null);

-- table connections on connections
CREATE TABLE "connections" ("id" text primary key, "account_id" text not null references "accounts" ("id"), "name" text not null, "provider" text not null, "config" text not null, "created_at" text not null, "credentials" text, "updated_at" text default '' not null, constraint "connections_account_name" unique ("account_id", "name"));

-- table invitations on invitations
CREATE TABLE "invitations" ("id" text primary key, "account_id" text not null references "accounts" ("id"), "email" text not null, "role" text not null, "secret_hash" text not null unique, "invited_by" text not null, "created_at" text not null, "expires_at" text not null, "accepted_at" text, "accepted_user_id" text, "revoked_at" text, "user_id" text);

-- table kysely_migration on kysely_migration
CREATE TABLE "kysely_migration" ("name" varchar(255) not null primary key, "timestamp" varchar(255) not null);

-- table kysely_migration_lock on kysely_migration_lock
CREATE TABLE "kysely_migration_lock" ("id" varchar(255) not null primary key, "is_locked" integer default 0 not null);

-- table meta on meta
CREATE TABLE "meta" ("key" text primary key, "value" text not null);

-- table oauth_records on oauth_records
CREATE TABLE "oauth_records" ("kind" text not null, "id" text not null, "payload" text not null, "grant_id" text, "uid" text, "user_code" text, "expires_at" integer, "consumed_at" integer, constraint "oauth_records_pk" primary key ("kind", "id"));

-- table saved_maps on saved_maps
CREATE TABLE "saved_maps" ("id" text primary key, "account_id" text not null references "accounts" ("id"), "title" text not null, "description" text default '' not null, "privacy" text not null, "datasets" text not null, "kepler_map_config" text not null, "created_at" text not null, "updated_at" text not null);

-- table signing_keys on signing_keys
CREATE TABLE "signing_keys" ("kid" text primary key, "alg" text not null, "private_jwk" text not null, "public_jwk" text not null, "created_at" text not null, "retired_at" text);

-- table sql_jobs on sql_jobs
CREATE TABLE "sql_jobs" ("seq" integer primary key autoincrement, "external_id" text not null unique, "account_id" text not null references "accounts" ("id"), "created_by" text not null, "connection_id" text not null, "connection_name" text not null, "connection_provider" text not null, "query" text not null, "query_parameters" text, "status" text not null, "error_message" text, "error_code" text, "metadata" text, "created_at" text not null, "updated_at" text not null, "started_at" text, "finished_at" text, "node_id" text, "node_incarnation" text, "lease_expires_at" text);

-- table sqlite_sequence on sqlite_sequence
CREATE TABLE sqlite_sequence(name,seq);

-- table users on users
CREATE TABLE "users" ("id" text primary key, "account_id" text not null references "accounts" ("id"), "email" text not null unique, "name" text not null, "role" text not null, "created_at" text not null, "password_hash" text, "locked_until" text, "disabled_at" text, "failed_logins" integer default 0 not null, "updated_at" text default '' not null);
