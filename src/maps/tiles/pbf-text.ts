/**
 * UTF-8 string fields for `pbf` writers. pbf 3's own writeString mis-encodes code points from
 * U+20000 up (it ORs 0x10000 where it must add it), which corrupts CJK Extension B place
 * names; TextEncoder is correct, and a string field is just its bytes on the wire.
 */
import type Pbf from 'pbf';

const encoder = new TextEncoder();

export function writeTextField(pbf: Pbf, tag: number, text: string): void {
  pbf.writeBytesField(tag, encoder.encode(text));
}
