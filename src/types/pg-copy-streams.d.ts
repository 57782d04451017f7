/** The part of pg-copy-streams (which ships no types) that the PostgreSQL driver uses. */
declare module 'pg-copy-streams' {
  import type { Readable } from 'node:stream';
  import type { Submittable } from 'pg';

  /** `COPY ... TO STDOUT`, submitted with `client.query`, read as a byte stream. */
  export interface CopyToStreamQuery extends Readable, Submittable {
    rowCount: number;
  }

  export function to(text: string): CopyToStreamQuery;
}
