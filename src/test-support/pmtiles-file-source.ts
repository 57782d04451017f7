import { open } from 'node:fs/promises';
import type { RangeResponse, Source } from 'pmtiles';

/** The pmtiles reader's Source over a local file, for reading archives back in tests. */
export class LocalFileSource implements Source {
  constructor(private readonly file: string) {}

  getKey(): string {
    return this.file;
  }

  async getBytes(offset: number, length: number): Promise<RangeResponse> {
    const handle = await open(this.file, 'r');
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return { data: new Uint8Array(buffer.subarray(0, bytesRead)).buffer };
    } finally {
      await handle.close();
    }
  }
}
