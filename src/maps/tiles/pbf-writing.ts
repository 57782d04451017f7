/**
 * Two field writers `pbf` 3 gets wrong or slow, shared by the tile encoders.
 * pbf's writeString mis-encodes code points from U+20000 up (it ORs 0x10000 where it must
 * add it), corrupting CJK Extension B place names; its writeBytes copies byte by byte in
 * JavaScript, which dominates when a tile adds megabytes of nested messages.
 */
import Pbf from 'pbf';

const encoder = new TextEncoder();
const PLANE_TWO_OR_ABOVE = /[\uD840-\uDBFF]/;

/** A length-delimited field copied in one native call. */
export function writeBytesField(pbf: Pbf, tag: number, bytes: Uint8Array): void {
  pbf.writeTag(tag, Pbf.Bytes);
  pbf.writeVarint(bytes.length);
  pbf.realloc(bytes.length);
  pbf.buf.set(bytes, pbf.pos);
  pbf.pos += bytes.length;
}

/**
 * A UTF-8 string field. Only strings with a character from U+20000 up (a lead surrogate from
 * U+D840) need TextEncoder; pbf's own writer is several times faster for short strings.
 */
export function writeTextField(pbf: Pbf, tag: number, text: string): void {
  if (PLANE_TWO_OR_ABOVE.test(text)) writeBytesField(pbf, tag, encoder.encode(text));
  else pbf.writeStringField(tag, text);
}
