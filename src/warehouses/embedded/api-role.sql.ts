/**
 * SQL that prepares the role API statements run as, and that cleans the shared session after
 * each statement. Run by the bootstrap superuser when the worker opens the data directory.
 */

/** The unprivileged role every API statement runs as. */
export const API_ROLE = 'graticule';

/** The API role and whether it may create schemas and tables in `public`; no row when missing. */
export const SELECT_API_ROLE = `
  SELECT r.oid::int4 AS "oid",
         has_database_privilege(r.oid, current_database(), 'CREATE') AS "canCreateSchemas",
         has_schema_privilege(r.oid, 'public', 'USAGE')
           AND has_schema_privilege(r.oid, 'public', 'CREATE') AS "canCreateInPublic",
         current_database() AS "database"
    FROM pg_catalog.pg_roles AS r
   WHERE r.rolname = '${API_ROLE}'`;

export const CREATE_API_ROLE = `
  CREATE ROLE "${API_ROLE}"
    NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`;

export const GRANT_CREATE_IN_PUBLIC = `GRANT USAGE, CREATE ON SCHEMA "public" TO "${API_ROLE}"`;

/** Lets the API role create schemas, e.g. the demo loader's `demo`. */
export function grantCreateSchemasStatement(quotedDatabase: string): string {
  return `GRANT CREATE ON DATABASE ${quotedDatabase} TO "${API_ROLE}"`;
}

/**
 * The ALTER statements that hand the API role what a previous version created as the
 * superuser (schema `demo`, the demo tables, users' own tables), so existing data directories
 * keep working; none once done. Extension members (PostGIS's functions, types and
 * `spatial_ref_sys`) stay with the superuser, which keeps `DROP EXTENSION` and catalog writes
 * out of reach. Sequences and indexes that belong to a table follow their table. OID 10 is the
 * bootstrap superuser. Plain SQL rather than a DO block: loading PL/pgSQL on a reopened data
 * directory costs about 0.4 s.
 */
export const PLAN_OWNERSHIP_TRANSFER = `
  WITH "user_schemas" AS (
    SELECT n.oid, n.nspname, n.nspowner
      FROM pg_catalog.pg_namespace AS n
     WHERE (n.nspowner IN (10, '${API_ROLE}'::regrole) OR n.nspname = 'public')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
       AND n.nspname NOT LIKE 'pg\\_temp\\_%'
       AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
       AND NOT EXISTS (
             SELECT FROM pg_catalog.pg_depend AS d
              WHERE d.classid = 'pg_catalog.pg_namespace'::regclass
                AND d.objid = n.oid
                AND d.deptype = 'e')
  )
  SELECT format('ALTER SCHEMA %I OWNER TO "${API_ROLE}"', s.nspname) AS "statement"
    FROM "user_schemas" AS s
   WHERE s.nspowner = 10
     AND s.nspname <> 'public'
  UNION ALL
  SELECT format(
           'ALTER %s %I.%I OWNER TO "${API_ROLE}"',
           CASE c.relkind
             WHEN 'v' THEN 'VIEW'
             WHEN 'm' THEN 'MATERIALIZED VIEW'
             WHEN 'f' THEN 'FOREIGN TABLE'
             WHEN 'S' THEN 'SEQUENCE'
             ELSE 'TABLE'
           END,
           s.nspname,
           c.relname)
    FROM pg_catalog.pg_class AS c
    JOIN "user_schemas" AS s ON s.oid = c.relnamespace
   WHERE c.relowner = 10
     AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     AND NOT EXISTS (
           SELECT FROM pg_catalog.pg_depend AS d
            WHERE d.classid = 'pg_catalog.pg_class'::regclass
              AND d.objid = c.oid
              AND d.deptype IN ('e', 'a', 'i'))`;

export const SELECT_CURRENT_USER = `SELECT current_user::text AS name`;

/** Must fail once the session is locked to the API role. */
export const TRY_BECOME_SUPERUSER = `SELECT set_config('role', 'postgres', false)`;

/** The session reset after every statement; role changes are impossible in this session. */
export { RESET_POSTGRES_SESSION as RESET_SESSION } from '../postgres-session-reset.sql.js';
