/**
 * Per-request accounting of an Elasticsearch client (via its diagnostic events): how many requests of
 * which kind a timed section made, and their total wall time, to show where a worker run spends it.
 */
import type { Client } from '@elastic/elasticsearch';

export interface RequestTally {
  [kind: string]: { count: number; ms: number };
}

/** Request kind: method and path with index names, ids and PIT ids generalised. */
export function requestKind(method: string, path: string): string {
  const parts = path.split('?')[0]!.split('/').filter((p) => p !== '');
  const shape = parts.map((p, i) => (p.startsWith('_') ? p : i === 0 ? '{index}' : '{id}'));
  return `${method} /${shape.join('/')}`;
}

export class RequestTracer {
  private started = new Map<unknown, number>();
  private tally: RequestTally = {};
  private active = false;

  constructor(client: Client) {
    client.diagnostic.on('request', (err, ev) => {
      if (!this.active || err || !ev) return;
      this.started.set(ev.meta.request.id, performance.now());
    });
    client.diagnostic.on('response', (_err, ev) => {
      if (!this.active || !ev) return;
      const t = this.started.get(ev.meta.request.id);
      if (t === undefined) return;
      this.started.delete(ev.meta.request.id);
      const params = ev.meta.request.params;
      const kind = requestKind(params.method, params.path);
      const row = (this.tally[kind] ??= { count: 0, ms: 0 });
      row.count++;
      row.ms += performance.now() - t;
    });
  }

  /** Records the requests made while `f` runs. */
  async trace<T>(f: () => Promise<T>): Promise<{ value: T; tally: RequestTally }> {
    this.tally = {};
    this.started.clear();
    this.active = true;
    try {
      const value = await f();
      return { value, tally: this.tally };
    } finally {
      this.active = false;
    }
  }
}
