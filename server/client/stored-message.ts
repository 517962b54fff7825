/**
 * A fetched record that reads its key and value from the stored batch it came in, as they are
 * asked for: the batch's bytes, and where in them the key and value are (length -1: null). A
 * handler that reads them by range (`batch`, `keyStart`, `keyLength`, …) makes no Buffer per
 * record: the pipeline runtime, whose consumer holds up to 50,000 fetched records, each with a
 * key view and a value view made as it was fetched otherwise.
 *
 * `key` and `value` are getters (a new view on each read), so spreading such a message or
 * `JSON.stringify` leaves them out: consumers get plain messages unless they ask for these
 * (`ConsumerOptions.storedMessages`).
 */
import type { Message, MessageHeader } from "./consumer-types.ts";

export class StoredMessage implements Message {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly timestamp: number,
    readonly timestampType: string,
    readonly headers: readonly MessageHeader[],
    /** the stored batch holding the record */
    readonly batch: Buffer,
    readonly keyStart: number,
    readonly keyLength: number,
    readonly valueStart: number,
    readonly valueLength: number,
  ) {}

  get key(): Buffer | null {
    return this.keyLength < 0 ? null : this.batch.subarray(this.keyStart, this.keyStart + this.keyLength);
  }

  get value(): Buffer | null {
    return this.valueLength < 0 ? null : this.batch.subarray(this.valueStart, this.valueStart + this.valueLength);
  }

  /** Bytes of the key and the value. */
  get bytes(): number {
    return Math.max(0, this.keyLength) + Math.max(0, this.valueLength);
  }
}

/** What a fetched record holds in memory, as a consumer counts it against maxBufferedBytes: its key and value. */
export const bytesOfMessage = (m: Message): number =>
  m instanceof StoredMessage ? m.bytes : (m.key?.length ?? 0) + (m.value?.length ?? 0);
