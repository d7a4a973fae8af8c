/**
 * A deliberately naive, independent reading of the two seed rules (Elasticsearch semantics:
 * any value of a multi-valued field matches, `not` negates that, a missing field never equals,
 * maxspan inclusive, a newer first-stage event replaces an older one with the same key, a
 * completed sequence consumes its first-stage event). Used to check the generator's ground truth
 * without depending on the engine under test.
 */
type Doc = Record<string, unknown>;

/** Values at a dotted path, trying every split so literal dotted keys are found too. */
export function values(obj: unknown, path: string): unknown[] {
  const walk = (o: unknown, segs: string[]): unknown[] => {
    if (Array.isArray(o)) return o.flatMap((v) => walk(v, segs));
    if (segs.length === 0) return o === undefined || o === null ? [] : [o];
    if (o === null || typeof o !== 'object') return [];
    const out: unknown[] = [];
    for (let i = 1; i <= segs.length; i++) {
      const key = segs.slice(0, i).join('.');
      if (Object.hasOwn(o, key)) out.push(...walk((o as Record<string, unknown>)[key], segs.slice(i)));
    }
    return out;
  };
  return walk(obj, path.split('.'));
}

const any = (doc: Doc, path: string, pred: (v: unknown) => boolean): boolean => values(doc, path).some(pred);
const eq = (doc: Doc, path: string, x: unknown): boolean => any(doc, path, (v) => v === x);
const within = (doc: Doc, path: string, set: readonly string[]): boolean => any(doc, path, (v) => typeof v === 'string' && set.includes(v));

const SHELLS = ['bash', 'dash', 'sh', 'tcsh', 'csh', 'zsh', 'ksh', 'fish', 'busybox'];
const withPaths = (names: string[]): string[] => names.flatMap((n) => [n, `/bin/${n}`, `/usr/bin/${n}`, `/usr/local/bin/${n}`]);
const TOOL_ARGS = withPaths(['wget', 'ssl_client', 'curl', 'openssl', 'socat', 'ncat', 'kubectl']);
const EXCLUDED_ARGS = withPaths(['which', 'man', 'chmod', 'chown']);

export function interactiveExec(doc: Doc): boolean {
  return eq(doc, 'host.os.type', 'linux') && eq(doc, 'event.type', 'start') && eq(doc, 'event.action', 'exec') &&
    within(doc, 'process.name', SHELLS) && eq(doc, 'process.entry_leader.entry_meta.type', 'container') &&
    eq(doc, 'process.entry_leader.same_as_process', true) && eq(doc, 'process.interactive', true) &&
    any(doc, 'container.id', (v) => typeof v === 'string');
}

export function apiRequestStage0(doc: Doc): boolean {
  return eq(doc, 'event.category', 'process') && eq(doc, 'host.os.type', 'linux') && eq(doc, 'event.type', 'start') &&
    eq(doc, 'event.action', 'exec') &&
    (within(doc, 'process.name', ['wget', 'curl', 'openssl', 'socat', 'ncat', 'kubectl']) ||
      (within(doc, 'process.name', SHELLS) && within(doc, 'process.args', TOOL_ARGS) && !within(doc, 'process.args', EXCLUDED_ARGS))) &&
    eq(doc, 'process.interactive', true) && any(doc, 'container.id', (v) => typeof v === 'string');
}

export function apiRequestStage1(doc: Doc): boolean {
  return eq(doc, 'event.dataset', 'kubernetes.audit_logs') && within(doc, 'kubernetes.audit.stage', ['ResponseComplete', 'ResponseStarted']);
}

/** Positions of [stage-0, stage-1] pairs, for events already in @timestamp order. */
export function apiRequestSequences(events: readonly Doc[]): number[][] {
  const pending = new Map<unknown, { at: number; ts: number }>();
  const out: number[][] = [];
  events.forEach((doc, i) => {
    const ts = Date.parse(doc['@timestamp'] as string);
    // A stage-1 hit is checked first: an event cannot be both stages here anyway.
    if (apiRequestStage1(doc)) {
      for (const key of new Set(values(doc, 'kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name'))) {
        const p = pending.get(key);
        if (p && ts - p.ts <= 1000) {
          out.push([p.at, i]);
          pending.delete(key);
        }
      }
    }
    if (apiRequestStage0(doc)) {
      for (const key of new Set(values(doc, 'orchestrator.resource.name'))) pending.set(key, { at: i, ts });
    }
  });
  return out;
}
