/**
 * Reads the rows of `COPY … TO STDOUT (FORMAT binary)` from the chunks the stream delivered,
 * without joining them first: a field's bytes come back as the pieces of the chunks they lie
 * in (subarrays, no copy). Measured on 1 GB of 1 MiB batches, joining the chunks was a fifth of
 * the server's CPU while a consumer caught up.
 *
 * Format (PostgreSQL docs, "COPY: Binary Format"): an 11-byte signature, int32 flags, int32
 * header-extension length and that many bytes; then per row an int16 field count and per field
 * an int32 length (-1 for NULL) and the bytes; an int16 of -1 ends the data.
 */
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

export class CopyFormatError extends Error {}

export class CopyBinaryReader {
  private chunk = 0;
  private at = 0;

  constructor(private readonly chunks: readonly Buffer[]) {
    if (!this.bytes(SIGNATURE.length).equals(SIGNATURE)) throw new CopyFormatError("not COPY binary data: the signature is missing");
    this.bytes(4); // flags: bit 16 (OIDs included) is never set by a COPY of a query
    this.skip(this.int32());
  }

  /** The next row's field count, or null once the end-of-data marker is read. */
  nextRow(): number | null {
    const fields = this.int16();
    return fields === -1 ? null : fields;
  }

  /** A field's bytes as the pieces they lie in (null for SQL NULL). */
  field(): Buffer[] | null {
    const length = this.int32();
    return length < 0 ? null : this.take(length);
  }

  /** A field known to be int8. */
  int8Field(): number {
    const length = this.int32();
    if (length !== 8) throw new CopyFormatError(`expected an int8 field (8 bytes), found ${length} bytes`);
    return Number(this.bytes(8).readBigInt64BE(0));
  }

  private int16(): number {
    return this.bytes(2).readInt16BE(0);
  }

  private int32(): number {
    return this.bytes(4).readInt32BE(0);
  }

  private remaining(): number {
    while (this.chunk < this.chunks.length && this.at === this.chunks[this.chunk].length) {
      this.chunk++;
      this.at = 0;
    }
    return this.chunk < this.chunks.length ? this.chunks[this.chunk].length - this.at : 0;
  }

  /** `n` contiguous bytes: a subarray when one chunk holds them, else a small copy. */
  private bytes(n: number): Buffer {
    if (this.remaining() >= n) {
      const b = this.chunks[this.chunk].subarray(this.at, this.at + n);
      this.at += n;
      return b;
    }
    return Buffer.concat(this.take(n), n);
  }

  private take(n: number): Buffer[] {
    const pieces: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const available = this.remaining();
      if (available === 0) throw new CopyFormatError(`COPY data ends ${left} bytes early`);
      const k = Math.min(available, left);
      pieces.push(this.chunks[this.chunk].subarray(this.at, this.at + k));
      this.at += k;
      left -= k;
    }
    return pieces;
  }

  private skip(n: number): void {
    this.take(n);
  }
}
