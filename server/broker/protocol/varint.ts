/**
 * Zig-zag varints as Kafka's record format uses them (protobuf style). Values are JS numbers:
 * exact up to 2^53, which covers every offset delta, length and millisecond timestamp delta.
 */

export function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

export function varintSize(n: number): number {
  let v = zigzag(n);
  let size = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

/** Writes `n` at `pos`, returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  let v = zigzag(n);
  if (v < 0x10000000) {
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    return pos;
  }
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** A cursor-based reader; `pos` advances. Throws RangeError on truncated input. */
export class VarintReader {
  constructor(
    public buf: Uint8Array,
    public pos: number,
    public end: number,
  ) {}

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError("truncated varint");
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        // undo zig-zag without 32-bit bit ops so 64-bit values stay exact up to 2^53
        return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      }
      mul *= 128;
    }
    throw new RangeError("varint longer than 10 bytes");
  }
}
