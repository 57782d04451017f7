import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';

/** A record of a CSV file: its fields, and the line it starts on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** A CSV file that is not well formed; `line` is where the parser noticed. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const MESSAGES: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'unexpected text after a closing quote',
};

/**
 * Splits CSV text (RFC 4180: quoted fields may hold separators, doubled quotes and line
 * breaks; CRLF or LF line ends) into records with csv-parse, chunk by chunk. Blank lines
 * are skipped; records may have different field counts (the importer names the line of a
 * short or long one itself).
 */
export async function* readCsvRecords(
  chunks: AsyncIterable<string>,
  delimiter = ',',
): AsyncGenerator<CsvRecord> {
  const parser = parse({
    delimiter,
    // Files mix line ends: a CRLF file may hold LF inside a quoted field or at its end.
    record_delimiter: ['\r\n', '\n'],
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
  });
  // The pipeline keeps one chunk in flight and carries a read or parse error to the loop
  // below, which reads the parser (its own rejection would repeat that error).
  const piped = pipeline(Readable.from(chunks), parser).catch(() => undefined);
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      // `lines` counts to the record's end; line breaks inside quoted fields come before it.
      const inside = record.reduce((sum, field) => sum + (field.split('\n').length - 1), 0);
      yield { line: info.lines - inside, fields: record };
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines ?? 0;
      throw new CsvSyntaxError(line, MESSAGES[error.code] ?? error.message);
    }
    throw error;
  } finally {
    parser.destroy();
    await piped;
  }
}
