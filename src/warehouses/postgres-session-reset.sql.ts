/**
 * What `DISCARD ALL` does, without its `SET SESSION AUTHORIZATION DEFAULT` (which the embedded
 * warehouse's locked session refuses, and which would undo nothing a query can change): close
 * cursors, settings back to their session defaults, prepared statements, LISTENs, advisory
 * locks, cached plans, sequence state and temporary tables. Shared by every PostgreSQL-flavoured
 * driver that hands one session to several callers.
 */
export const RESET_POSTGRES_SESSION = `
  CLOSE ALL;
  RESET ALL;
  DEALLOCATE ALL;
  UNLISTEN *;
  SELECT pg_catalog.pg_advisory_unlock_all();
  DISCARD PLANS;
  DISCARD SEQUENCES;
  DISCARD TEMP`;
