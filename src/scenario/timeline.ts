/**
 * Collects generated documents with their event time (epoch ms) so they can be put in
 * `@timestamp` order at the end; generation order breaks ties, which keeps a process's fork
 * before its exec when both fall on the same millisecond.
 */
export type ScenarioDoc = Record<string, unknown>;

export class Timeline {
  readonly docs: ScenarioDoc[] = [];
  readonly times: number[] = [];

  add(timeMs: number, doc: ScenarioDoc): ScenarioDoc {
    this.docs.push(doc);
    this.times.push(timeMs);
    return doc;
  }

  get size(): number {
    return this.docs.length;
  }

  /** Drops documents added after the first `length` (used to cut the last benign activity). */
  truncate(length: number): void {
    this.docs.length = Math.min(this.docs.length, length);
    this.times.length = Math.min(this.times.length, length);
  }

  /** Documents in time order (stable). */
  sorted(): ScenarioDoc[] {
    const order = new Uint32Array(this.docs.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const times = this.times;
    order.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
    const out: ScenarioDoc[] = new Array(order.length);
    for (let i = 0; i < order.length; i++) out[i] = this.docs[order[i] as number] as ScenarioDoc;
    return out;
  }
}

export const iso = (ms: number): string => new Date(ms).toISOString();
