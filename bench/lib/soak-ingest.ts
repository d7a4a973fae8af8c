/**
 * Steady, realistic ingest for the soak benchmark: the scenario generator's cloud_defend process events and
 * Kubernetes audit logs (attacks hidden in benign noise), indexed in real time as their `@timestamp` comes due,
 * each stamped `event.ingested` = the moment it is sent (the seed rules cut windows on it).
 *
 * The generator makes finite scenarios whose benign activity thins out towards their end, so the feed is a
 * chain of overlapping scenarios: one starts every `chunkMs`, spans 2 × `chunkMs` and carries half the rate,
 * two of them overlapping at any time. Documents get `<chunk>-<line>` as `_id`. Bulk rejections are counted and
 * reported, never dropped silently. Or (`feed`) a feed built beforehand (the fleet benchmark's), sent the same way.
 */
import type { Client } from '@elastic/elasticsearch';
import { generateScenario, indexOfDoc, PROCESS_INDEX, AUDIT_INDEX, type ScenarioDoc } from '../../src/scenario/index.js';

export interface SoakIndices {
  process: string;
  audit: string;
}

export interface IngestOptions {
  indices: SoakIndices;
  /** Documents per second (both indices together). */
  rate: number;
  /** Injected attacks per document (the scenario default is 0.001). */
  attackRate: number;
  seed: number;
  chunkMs?: number;
  tickMs?: number;
  /** Documents to send instead of generated chunks, in `ts` order (`rate`, `attackRate`, `seed` unused). */
  feed?: Pending[];
}

export interface Pending {
  ts: number;
  index: string;
  id: string;
  doc: ScenarioDoc;
}

export class SteadyIngest {
  indexed = 0;
  rejected = 0;
  attacks = 0;
  lastError: string | undefined;
  /** Latest a document was sent after its `@timestamp` (a slow node delays the feed). */
  maxLagMs = 0;
  private pending: Pending[] = [];
  private chunk = 0;
  private nextChunkAt = 0;
  private notBefore = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly chunkMs: number;
  private readonly target: Record<string, string>;

  constructor(
    private readonly client: Client,
    private readonly o: IngestOptions,
  ) {
    this.chunkMs = o.chunkMs ?? 5 * 60_000;
    this.target = { [PROCESS_INDEX]: o.indices.process, [AUDIT_INDEX]: o.indices.audit };
  }

  /** From `now` on at the full rate: the scenario started one chunk earlier overlaps the first one (its past is skipped). */
  start(now = Date.now()): void {
    this.notBefore = now;
    this.nextChunkAt = this.o.feed ? Infinity : now - this.chunkMs;
    if (this.o.feed) this.pending = this.o.feed;
    this.tick(now);
    this.timer = setInterval(() => this.tick(Date.now()), this.o.tickMs ?? 500);
  }

  /** Stops generating and sends what is already due. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
    await this.send(Date.now());
  }

  private addChunk(start: number): void {
    const events = Math.max(100, Math.round((this.o.rate * this.chunkMs) / 1000));
    const scenario = generateScenario({ events, attacks: Math.round(events * this.o.attackRate), start, spanMs: 2 * this.chunkMs, seed: this.o.seed + this.chunk });
    this.attacks += scenario.attacks.filter((a) => a.startMs >= this.notBefore).length;
    const k = this.chunk++;
    const added = scenario.events
      .map((doc, line): Pending => {
        const index = this.target[indexOfDoc(doc)];
        if (index === undefined) throw new Error(`scenario document for unexpected index ${indexOfDoc(doc)}`);
        return { ts: Date.parse(doc['@timestamp'] as string), index, id: `${k}-${line}`, doc };
      })
      .filter((p) => p.ts >= this.notBefore);
    this.pending = mergeByTime(this.pending, added);
  }

  private tick(now: number): void {
    while (now >= this.nextChunkAt) {
      this.addChunk(this.nextChunkAt);
      this.nextChunkAt += this.chunkMs;
    }
    // One bulk at a time: a slow node delays the feed (documents keep their ingest time) rather than piling up.
    this.inFlight = this.inFlight.then(() => this.send(Date.now()));
  }

  private async send(now: number): Promise<void> {
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.ts <= now) n++;
    if (n === 0) return;
    const due = this.pending.splice(0, n);
    this.maxLagMs = Math.max(this.maxLagMs, now - due[0]!.ts);
    const ingested = new Date().toISOString();
    const operations = due.flatMap((p) => [{ create: { _index: p.index, _id: p.id } }, { ...p.doc, event: { ...(p.doc.event as object), ingested } }]);
    try {
      const res = await this.client.bulk({ operations });
      const failed = res.items.filter((i) => i.create?.error);
      this.indexed += due.length - failed.length;
      if (failed.length > 0) {
        this.rejected += failed.length;
        this.lastError = JSON.stringify(failed[0]!.create!.error);
      }
    } catch (e) {
      this.rejected += due.length;
      this.lastError = (e as Error).message;
    }
  }
}

function mergeByTime(a: Pending[], b: Pending[]): Pending[] {
  const out: Pending[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.ts <= b[j]!.ts)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
