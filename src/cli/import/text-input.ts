import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** Bytes of the file read so far, for a progress bar. */
export type BytesRead = (bytes: number) => void;

const CHUNK_BYTES = 256 * 1024;

/** The file as UTF-8 text chunks, read with flat memory; a leading byte-order mark is dropped. */
export async function* readTextChunks(file: string, onBytes?: BytesRead): AsyncGenerator<string> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
  let first = true;
  for await (const chunk of stream) {
    let text = chunk as string;
    if (first) {
      first = false;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    yield text;
    onBytes?.(stream.bytesRead);
  }
}

/** The file's lines with their 1-based numbers, read with flat memory. */
export async function* readLines(
  file: string,
  onBytes?: BytesRead,
): AsyncGenerator<{ line: number; text: string }> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    yield { line, text: line === 1 ? text.replace(/^\uFEFF/, '') : text };
    onBytes?.(stream.bytesRead);
  }
}
