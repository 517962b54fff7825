/**
 * Which offsets of each partition a simulated group processed, as merged ranges: the records
 * processed (duplicates included), the distinct ones, and those skipped (a gap between ranges,
 * below the highest processed offset). A group reads each partition in order, so the ranges stay
 * few: a new owner starting behind the last commit adds duplicates, never a new range.
 */
export class ProcessedOffsets {
  /** Per partition: sorted, disjoint, non-adjacent [from, to) ranges. */
  private readonly ranges = new Map<string, [number, number][]>();
  processed = 0;
  distinct = 0;

  add(topic: string, partition: number, offset: number): void {
    this.processed++;
    const k = `${topic}\u0000${partition}`;
    let rs = this.ranges.get(k);
    if (!rs) this.ranges.set(k, (rs = []));
    // usually the last range grows by one
    const last = rs[rs.length - 1];
    if (last && last[1] === offset) {
      last[1]++;
      this.distinct++;
      return;
    }
    if (last && offset >= last[0] && offset < last[1]) return;
    const i = rs.findIndex((r) => offset < r[1]);
    if (i >= 0 && offset >= rs[i][0]) return; // seen
    this.distinct++;
    const at = i < 0 ? rs.length : i;
    rs.splice(at, 0, [offset, offset + 1]);
    // merge with the neighbours it now touches
    if (at + 1 < rs.length && rs[at][1] === rs[at + 1][0]) rs.splice(at, 2, [rs[at][0], rs[at + 1][1]]);
    if (at > 0 && rs[at - 1][1] === rs[at][0]) rs.splice(at - 1, 2, [rs[at - 1][0], rs[at][1]]);
  }

  /** Offsets never processed between the first and the last processed one of each partition. */
  skipped(): number {
    let n = 0;
    for (const rs of this.ranges.values()) for (let i = 1; i < rs.length; i++) n += rs[i][0] - rs[i - 1][1];
    return n;
  }

  /** Per partition, the offset after the highest processed one. */
  ends(): { topic: string; partition: number; end: number; start: number }[] {
    return [...this.ranges].map(([k, rs]) => {
      const i = k.indexOf("\u0000");
      return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)), start: rs[0][0], end: rs[rs.length - 1][1] };
    });
  }
}
