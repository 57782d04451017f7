/**
 * The types of one database, learnt from `pg_type`: they give each result column its CARTO
 * type and each array its element parser. Extension types such as PostGIS's geometry get a
 * different OID in every database, so a driver keeps its own catalog rather than a global one.
 */

import type pg from 'pg';
import type { WarehouseField } from '../driver.js';
import {
  PG_TEXT_PARSERS,
  PG_TYPE_OID,
  cartoTypeOf,
  keepText,
  parseNumericTextKeepingIntegerDigits,
  type PgTextParser,
  type PgTypeInfo,
} from '../postgres-types.js';
import { parseArrayText } from './pg-array-text.js';

// Result columns of a domain type are described with the domain's base type, so a type's own
// category is all the CARTO type needs.
const SELECT_ALL_TYPES = `
  SELECT oid::int4 AS oid, typname, typcategory, typelem::int4 AS "elementOid",
         typdelim AS delimiter
    FROM pg_catalog.pg_type`;

const SELECT_TYPES_BY_OID = `${SELECT_ALL_TYPES}
   WHERE oid = ANY($1::oid[])`;

interface TypeRow extends PgTypeInfo {
  oid: number;
  elementOid: number;
  delimiter: string;
}

/**
 * What the driver returns differs from the shared parsers in one place: numerics whose integer
 * part a double cannot hold stay decimal strings instead of being rounded.
 */
const DRIVER_TEXT_PARSERS: Readonly<Record<number, PgTextParser>> = {
  ...PG_TEXT_PARSERS,
  [PG_TYPE_OID.numeric]: parseNumericTextKeepingIntegerDigits,
};

/** A column description as pg reports it. */
export interface ResultColumn {
  name: string;
  dataTypeID: number;
}

export interface DescribedColumns {
  fields: WarehouseField[];
  /**
   * Array columns whose type was first seen in this result: their values were read as text
   * and must be parsed again with `reparse`.
   */
  lateArrayColumns: string[];
}

export class TypeCatalog {
  private readonly types = new Map<number, TypeRow>();
  private readonly parsers = new Map<number, PgTextParser>();
  private hasLoaded = false;

  /** The `types` option of pg clients and cursors: parsers from this catalog, never pg's global. */
  readonly pgTypes: pg.CustomTypesConfig = {
    getTypeParser: ((oid: number) => this.parserOf(oid)) as pg.CustomTypesConfig['getTypeParser'],
  };

  get isLoaded(): boolean {
    return this.hasLoaded;
  }

  /** Reads every type of the database once; later types are learnt from results. */
  async load(client: pg.ClientBase): Promise<void> {
    const { rows } = await client.query<TypeRow>({ text: SELECT_ALL_TYPES, types: this.pgTypes });
    this.remember(rows);
    this.hasLoaded = true;
  }

  /** The parser for values of one type; text is kept for types without one. */
  parserOf(oid: number): PgTextParser {
    const cached = this.parsers.get(oid);
    if (cached) return cached;

    const builtin = DRIVER_TEXT_PARSERS[oid];
    if (builtin) return builtin;
    const type = this.types.get(oid);
    // Unknown until learnt: the value stays text and is parsed again once the type is known.
    if (!type) return keepText;
    const parser = type.typcategory === 'A' ? this.arrayParserOf(type) : keepText;
    this.parsers.set(oid, parser);
    return parser;
  }

  /** Names and CARTO types of a result's columns, learning the types not seen before. */
  async describe(client: pg.ClientBase, columns: ResultColumn[]): Promise<DescribedColumns> {
    const unseen = [...new Set(columns.map((column) => column.dataTypeID))].filter(
      (oid) => !this.types.has(oid),
    );
    if (unseen.length > 0) {
      const query = { text: SELECT_TYPES_BY_OID, values: [unseen], types: this.pgTypes };
      this.remember((await client.query<TypeRow>(query)).rows);
    }

    const fields = this.fieldsOf(columns);
    const lateArrayColumns = columns
      .filter((column) => unseen.includes(column.dataTypeID))
      .filter((column) => this.types.get(column.dataTypeID)?.typcategory === 'A')
      .map((column) => column.name);
    return { fields, lateArrayColumns };
  }

  /** Parses again the array columns that `describe` found late; rows are changed in place. */
  reparse(rows: Record<string, unknown>[], columns: ResultColumn[], names: string[]): void {
    if (names.length === 0) return;
    for (const column of columns.filter((candidate) => names.includes(candidate.name))) {
      const parse = this.parserOf(column.dataTypeID);
      for (const row of rows) {
        const value = row[column.name];
        if (typeof value === 'string') row[column.name] = parse(value);
      }
    }
  }

  /** True when the type is in the catalog (values of unknown types are read as text). */
  knows(oid: number): boolean {
    return this.types.has(oid);
  }

  /** Names and CARTO types from what the catalog knows now; unknown types are `unknown`. */
  fieldsOf(columns: ResultColumn[]): WarehouseField[] {
    return columns.map((column) => this.fieldOf(column));
  }

  private fieldOf(column: ResultColumn): WarehouseField {
    const type = this.types.get(column.dataTypeID);
    if (!type) return { name: column.name, nativeType: 'unknown', cartoType: 'unknown' };
    return { name: column.name, nativeType: type.typname, cartoType: cartoTypeOf(type) };
  }

  private arrayParserOf(type: TypeRow): PgTextParser {
    const parseElement = this.parserOf(type.elementOid);
    return (text) => parseArrayText(text, parseElement, type.delimiter || ',');
  }

  private remember(rows: TypeRow[]): void {
    for (const row of rows) this.types.set(row.oid, row);
  }
}
