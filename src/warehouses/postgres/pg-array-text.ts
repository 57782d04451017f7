/**
 * Reads PostgreSQL's text output of arrays (`{1,NULL,"a \"b\""}`, nested for more
 * dimensions), parsing each element with the parser of the element type. Format:
 * https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO
 */

export type ElementParser = (text: string) => unknown;

/** Arrays with bounds other than 1 print them first: `[0:1]={a,b}`; the values are the same. */
const BOUNDS_PREFIX = /^(\[-?\d+:-?\d+\])+=/;

class ArrayTextReader {
  private index = 0;

  constructor(
    private readonly text: string,
    private readonly parseElement: ElementParser,
    private readonly delimiter: string,
  ) {}

  read(): unknown[] {
    const prefix = BOUNDS_PREFIX.exec(this.text);
    this.index = prefix ? prefix[0].length : 0;
    return this.readArray();
  }

  private readArray(): unknown[] {
    this.expect('{');
    const values: unknown[] = [];
    if (this.peek() === '}') {
      this.index += 1;
      return values;
    }
    for (;;) {
      values.push(this.readElement());
      const next = this.text[this.index];
      this.index += 1;
      if (next === '}') return values;
      if (next !== this.delimiter) throw this.malformed();
    }
  }

  private readElement(): unknown {
    const first = this.peek();
    if (first === '{') return this.readArray();
    if (first === '"') return this.parseElement(this.readQuoted());
    const raw = this.readUnquoted();
    // Only the unquoted word NULL is a null; "NULL" in quotes is the text.
    return raw.toUpperCase() === 'NULL' ? null : this.parseElement(raw);
  }

  private readQuoted(): string {
    this.index += 1;
    let value = '';
    while (this.index < this.text.length) {
      const ch = this.text[this.index]!;
      if (ch === '\\') {
        value += this.text[this.index + 1] ?? '';
        this.index += 2;
      } else if (ch === '"') {
        this.index += 1;
        return value;
      } else {
        value += ch;
        this.index += 1;
      }
    }
    throw this.malformed();
  }

  private readUnquoted(): string {
    const start = this.index;
    while (this.index < this.text.length) {
      const ch = this.text[this.index];
      if (ch === this.delimiter || ch === '}') break;
      this.index += 1;
    }
    return this.text.slice(start, this.index).trim();
  }

  private peek(): string | undefined {
    return this.text[this.index];
  }

  private expect(ch: string): void {
    if (this.text[this.index] !== ch) throw this.malformed();
    this.index += 1;
  }

  private malformed(): Error {
    return new Error(`Malformed array text at offset ${this.index}`);
  }
}

/** Parses one array value; elements are nested arrays for multi-dimensional arrays. */
export function parseArrayText(
  text: string,
  parseElement: ElementParser,
  delimiter = ',',
): unknown[] {
  return new ArrayTextReader(text, parseElement, delimiter).read();
}
