/** The mark of an unfinished read's end; not `<time>|<id>`, so earlier releases ignore it. */
const UNTIL = 'until:';

/**
 * The cursor of a stream whose records AWS delivers late and out of order (CloudTrail LookupEvents,
 * CloudWatch Logs): a time `w` plus the IDs of the records already sent with a time at or after `w`.
 *
 * A run reads [w, end); a record is sent when its time is ≥ w and its ID is not in `seen`. After the
 * run, `w` moves up to `end − horizon` (never back), and the IDs older than the new `w` are forgotten.
 * So every record that reaches AWS's API within `horizon` of its own time is sent exactly once, whatever
 * the order it arrives in; one that arrives later than that is never read (the horizon is the stated
 * limit of the source). Re-reading the horizon costs API calls, not duplicates.
 *
 * Stored in the shared cursor store as `[w, "<time>|<id>", …]` (the time kept with each ID so that the
 * ID can be forgotten once `w` passes it), plus `"until:<resume end>:<cut end>"` while a read that stopped
 * early (a page cap) is to be finished: the next reads end at the resume end instead of at now, and once
 * they reach `w` the cursor settles as after a complete read up to the cut read's end.
 */
export class LateHorizonCursor {
  private readonly seen: Map<string, number>;

  private constructor(
    private w: number,
    seen: Map<string, number>,
    private cut?: { readonly until: number; readonly end: number },
  ) {
    this.seen = seen;
  }

  /** A new stream: reads from `startMs` (the first run's lookback). */
  static startingAt(startMs: number): LateHorizonCursor {
    return new LateHorizonCursor(startMs, new Map());
  }

  /** From the store's `{w, seen}`; marks that are not `<time>|<id>` strings are ignored. */
  static fromStored(stored: {
    readonly w: number;
    readonly seen: readonly (number | string)[];
  }): LateHorizonCursor {
    const seen = new Map<string, number>();
    let cut: { until: number; end: number } | undefined;
    for (const mark of stored.seen) {
      if (typeof mark !== 'string') continue;
      if (mark.startsWith(UNTIL)) {
        const [until, end] = mark.slice(UNTIL.length).split(':').map(Number);
        if (Number.isFinite(until) && Number.isFinite(end)) cut = { until: until!, end: end! };
        continue;
      }
      const bar = mark.indexOf('|');
      const time = Number(mark.slice(0, bar));
      if (bar > 0 && Number.isFinite(time)) seen.set(mark.slice(bar + 1), time);
    }
    return new LateHorizonCursor(stored.w, seen, cut);
  }

  /** Where the next read starts. */
  get startMs(): number {
    return this.w;
  }

  /** Where the next read ends: where an unfinished read stopped, else `nowMs`. */
  readEnd(nowMs: number): number {
    return this.cut === undefined ? nowMs : Math.min(this.cut.until, nowMs);
  }

  /**
   * A read of [w, endMs) stopped early, having read everything at or after `resumeEndMs`: the next read is
   * [w, resumeEndMs). `w` stays (nothing before it was read); the end of the first cut read is kept for
   * `settle`.
   */
  stopAt(resumeEndMs: number, endMs: number): void {
    this.cut = { until: resumeEndMs, end: Math.max(endMs, this.cut?.end ?? endMs) };
  }

  /** Whether a record is new: at or after `w`, and not sent before. */
  accepts(id: string, timeMs: number): boolean {
    return timeMs >= this.w && !this.seen.has(id);
  }

  /** Marks a record as sent (call once its delivery was confirmed, or on a copy before committing it). */
  markSent(id: string, timeMs: number): void {
    if (timeMs >= this.w) this.seen.set(id, timeMs);
  }

  /**
   * After a complete read of [w, endMs): `w` moves to `endMs − horizonMs` (never back) and what is older
   * is forgotten. After an incomplete read, call nothing: the window is read again.
   */
  settle(endMs: number, horizonMs: number): void {
    // Finishing a cut read completes the read it was cut from: everything up to its end was read.
    const end = Math.max(endMs, this.cut?.end ?? endMs);
    this.cut = undefined;
    const w = Math.max(this.w, end - horizonMs);
    if (w === this.w) return;
    this.w = w;
    for (const [id, time] of this.seen) if (time < w) this.seen.delete(id);
  }

  /** A copy, to change and commit only once the records it marks were delivered. */
  copy(): LateHorizonCursor {
    return new LateHorizonCursor(this.w, new Map(this.seen), this.cut);
  }

  /** The store's `{w, seen}`. */
  toStored(): { w: number; seen: string[] } {
    const seen = [...this.seen].map(([id, time]) => `${time}|${id}`);
    if (this.cut !== undefined) seen.push(`${UNTIL}${this.cut.until}:${this.cut.end}`);
    return { w: this.w, seen };
  }
}
