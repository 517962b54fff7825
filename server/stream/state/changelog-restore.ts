/**
 * A task's changelog read back into its stores, record by record as the partition reader shows
 * them (one reused view, no object per record): the key `node/store/key` is split on its bytes,
 * the value is kept as the changelog bytes it is (packed, decoded on first use), a tombstone
 * removes its key, `__watermark` holds the task's watermark and `__upstream` what its upstream
 * tasks last reported. Decodes nothing but the keys (and those two values).
 */
import { decodeState } from "./state-codec.ts";
import type { StateBudget, StateStore } from "./state-store.ts";
import type { UpstreamReports } from "../time/watermark.ts";

/** The changelog key holding the task's committed watermark. */
export const WATERMARK_KEY = "__watermark";
/** The changelog key holding what the task's upstream tasks last reported (`Topology.takeUpstreamReports`). */
export const UPSTREAM_KEY = "__upstream";

const SLASH = 0x2f;
const WATERMARK_BYTES = Buffer.from(WATERMARK_KEY, "utf8");
const UPSTREAM_BYTES = Buffer.from(UPSTREAM_KEY, "utf8");

/** A changelog record's bytes: key and value as ranges of `batch` (length -1: null). */
export interface ChangelogRecordView {
  batch: Buffer;
  keyStart: number;
  keyLength: number;
  valueStart: number;
  valueLength: number;
}

function sameBytes(a: Buffer, at: number, b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (a[at + i] !== b[i]) return false;
  return true;
}

export class ChangelogRestore {
  /** the watermark the changelog holds (-∞ if none) */
  watermark = Number.NEGATIVE_INFINITY;
  /** what the upstream tasks last reported, as the changelog holds it (null if never written) */
  upstream: UpstreamReports | null = null;
  /** a record was restored into a store since the last `takeRestored` */
  private restored = false;
  private readonly prefixes: { bytes: Buffer; store: StateStore<unknown> }[];

  /** `stores` by `node/store`; their keys (and their estimated bytes) are counted against `budget`. */
  constructor(
    stores: ReadonlyMap<string, StateStore<unknown>>,
    private readonly budget: StateBudget,
  ) {
    this.prefixes = [...stores].map(([name, store]) => ({ bytes: Buffer.from(`${name}/`, "utf8"), store }));
  }

  /** One record of the changelog, in offset order. */
  readonly visit = (r: ChangelogRecordView): void => {
    const b = r.batch;
    const start = r.keyStart;
    const end = start + r.keyLength;
    if (r.keyLength < 0) return;
    // `node/store/` up to the key's second slash names the store
    let slashes = 0;
    let at = start;
    for (; at < end; at++) if (b[at] === SLASH && ++slashes === 2) break;
    if (slashes < 2) {
      if (r.valueLength < 0) return;
      const value = () => decodeState(b.subarray(r.valueStart, r.valueStart + r.valueLength));
      if (r.keyLength === WATERMARK_BYTES.length && sameBytes(b, start, WATERMARK_BYTES)) this.watermark = Number(value());
      else if (r.keyLength === UPSTREAM_BYTES.length && sameBytes(b, start, UPSTREAM_BYTES)) this.upstream = value() as UpstreamReports;
      return;
    }
    const prefixLength = at + 1 - start;
    let store: StateStore<unknown> | null = null;
    for (const p of this.prefixes)
      if (p.bytes.length === prefixLength && sameBytes(b, start, p.bytes)) {
        store = p.store;
        break;
      }
    if (!store) return; // a node the pipeline no longer has
    if (r.valueLength < 0) store.restorePacked(b, at + 1, end, null, 0, 0);
    else {
      this.budget.encoded(r.valueLength);
      store.restorePacked(b, at + 1, end, b, r.valueStart, r.valueStart + r.valueLength);
    }
    this.restored = true;
  };

  /** Whether records were restored since the last call (the task then checks the state's bytes). */
  takeRestored(): boolean {
    const any = this.restored;
    this.restored = false;
    return any;
  }
}
