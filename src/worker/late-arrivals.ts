/**
 * What a rule does with documents that became searchable after their window was read (the audit of
 * coverage.ts finds them): a sequence rule keeps them as *repairs*, stretches re-evaluated with the events
 * around them once the matcher has passed their partners' time; and every run that met late documents says
 * so, at warning level when they were later than the tolerance (an operator then sees which stretches fell
 * behind), at debug level otherwise (the ordinary refresh lag).
 */
import type { CompiledQuery } from '../eql/compiled.js';
import type { Rule } from '../rules/schema.js';
import type { CoveredRange } from './coverage.js';
import type { RuleMatch } from './rule-engine.js';
import type { LateReport, Repair } from './run-types.js';
import { evaluateFresh, type ReadContext, type Stretch } from './window-read.js';

/** Pending repairs kept per rule: beyond it the nearest stretches merge (the state stays bounded). */
export const MAX_REPAIRS = 32;

/** Merges a late stretch into the pending repairs (bounded: nearest stretches merge beyond MAX_REPAIRS). */
export function addRepair(repairs: Repair[], r: Repair): Repair[] {
  const all = [...repairs, r].sort((a, b) => a.from - b.from);
  const merged: Repair[] = [];
  for (const x of all) {
    const last = merged[merged.length - 1];
    if (last && x.from <= last.to) {
      last.to = Math.max(last.to, x.to);
      last.added += x.added;
      last.due = Math.max(last.due, x.due);
    } else merged.push({ ...x });
  }
  while (merged.length > MAX_REPAIRS) {
    let best = 0;
    for (let i = 1; i + 1 < merged.length; i++) if (merged[i + 1]!.from - merged[i]!.to < merged[best + 1]!.from - merged[best]!.to) best = i;
    const a = merged[best]!;
    const b = merged[best + 1]!;
    merged.splice(best, 2, { from: a.from, to: b.to, added: a.added + b.added, due: Math.max(a.due, b.due) });
  }
  return merged;
}

/**
 * Late events of a sequence rule, stamped in `[r.from, r.to)` after the matcher had passed that time: the
 * events around them are evaluated afresh (what `replay` would find over them) and every sequence with an
 * event in the stretch is kept. Sequences found before give the same alert ids (no duplicate). `span` is the
 * rule's maxspan (its look-back without one).
 */
export async function repairSequences(ctx: ReadContext, compiled: CompiledQuery, span: number, r: Repair): Promise<{ matches: RuleMatch[]; eventsRead: number; complete: boolean }> {
  // A leading missing-event check looks up to maxspan before a sequence's first event.
  const s: Stretch = { from: r.from - 2 * span, to: r.to + span };
  const fresh = await evaluateFresh(ctx, s);
  const matches = fresh.matches.filter(
    (m) => m.kind === 'sequence' && m.hits.some((h) => {
      const ts = compiled.timestampOf(h._source);
      return ts >= r.from && ts < r.to;
    }),
  );
  return { matches, eventsRead: fresh.eventsRead, complete: fresh.complete };
}

/** The log line for a run that met late documents. */
export function describeLate(
  rule: Rule,
  kind: 'event' | 'sequence' | 'sample',
  late: LateReport,
  grown: (CoveredRange & { added: number })[],
  latenessMs: number,
): { level: 'warn' | 'debug'; fields: Record<string, unknown>; message: string } {
  const within = late.events - late.beyondTolerance;
  const fields = {
    'rule.id': rule.id,
    'rule.name': rule.name,
    late_events: late.events,
    beyond_tolerance: late.beyondTolerance,
    lateness_tolerance_ms: latenessMs,
    stretches: grown.map((g) => ({ from: iso(g.from), to: iso(g.to), added: g.added })).slice(0, 10),
    alerts: late.alertsCreated,
    repairs_pending: late.repairsPending,
  };
  const message =
    `rule ${rule.name}: ${late.events} event(s) became searchable after their window had been read` +
    `${late.beyondTolerance > 0 ? ` (${late.beyondTolerance} later than worker.lateness=${fmtMs(latenessMs)})` : ''}` +
    `${within > 0 ? `; ${within} within the tolerance were evaluated as if on time` : ''}` +
    `${kind === 'sequence' ? `; their sequences are re-evaluated with the events around them${late.repairsPending > 0 ? ` (${late.repairsPending} stretch(es) once maxspan has passed)` : ''}` : ''}` +
    `; ${late.alertsCreated} alert(s) written for them` +
    `${late.incomplete ? ' (a re-evaluation read was truncated at 100,000 events: some may have missed their sequences)' : ''}`;
  return { level: late.beyondTolerance > 0 || late.incomplete ? 'warn' : 'debug', fields, message };
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export function fmtMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
