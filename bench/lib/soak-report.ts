/**
 * The soak benchmark's figures: growth per hour of each sampled series (least-squares slope, after a warm-up,
 * per worker process for the process's own memory), rule lag outside faults, the outcome checks, a Markdown
 * table and the PNG plot (bench/lib/plot.ts).
 */
import { renderLineCharts, type Band, type Series } from './plot.js';
import { round, slope } from './report.js';

export interface ProbeLine {
  t: number;
  pid: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  lagP99Ms: number;
  lagMaxMs: number;
  elu: number;
}

export interface Sample {
  t: number;
  fault: string;
  workerUp: boolean;
  /**
   * Per rule, how far detection is behind at this sample: the lag the worker reported after its last successful
   * run plus the time since that run (the gauge alone stands still while runs fail).
   */
  ruleLagS: Record<string, number>;
  lastSuccess: Record<string, number>;
  runs: Record<string, number>;
  stateBytes: Record<string, number>;
  outbox: { pending: number; sent: number; dead: number; total: number };
  alerts: number;
  mails: number;
  ingested: number;
}

export interface Span {
  label: string;
  from: number;
  to: number;
}

export interface Outcome {
  documents: { indexed: number; rejected: number; exported: number; attacks: number; lastError: string | null };
  alerts: { expected: number; written: number; missing: string[]; unexpected: string[]; duplicated: string[] };
  notifications: { expected: number; mails: number; missing: string[]; duplicates: number; duplicatesWithDifferentIds: number };
  proxy: Record<string, number | undefined>;
  worker: { levels: Record<string, number>; problems: Record<string, number>; finalExit: unknown };
  caughtUp: boolean;
}

export interface SoakInput {
  machine: Record<string, unknown>;
  options: { minutes: number; rate: number; faultForS: number };
  startedAt: number;
  endedAt: number;
  samples: Sample[];
  probes: ProbeLine[];
  faults: Span[];
  restarts: Span[];
  outcome: Outcome;
  intervalS: number;
}

const WARMUP_MS = 5 * 60_000;
/** After a fault or a restart, the worker is given this long to catch up before its lag counts as steady. */
const RECOVERY_MS = 60_000;
const MB = 1_048_576;

interface Growth {
  series: string;
  unit: string;
  first: number;
  last: number;
  min: number;
  max: number;
  /** Slope per hour, per segment (one per worker process for process series, one for the run otherwise). */
  perHour: number[];
}

function growth(series: string, unit: string, segments: [number, number][][]): Growth {
  const all = segments.flat();
  const vals = all.map(([, v]) => v);
  return {
    series,
    unit,
    first: vals[0] ?? Number.NaN,
    last: vals.at(-1) ?? Number.NaN,
    min: Math.min(...vals),
    max: Math.max(...vals),
    perHour: segments.map((seg) => {
      if (seg.length < 3) return Number.NaN;
      const t0 = seg[0]![0];
      return slope(seg.filter(([t]) => t - t0 >= WARMUP_MS).map(([t, v]) => [(t - t0) / 3_600_000, v]));
    }),
  };
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const fmt = (x: number, digits = 1): string => (Number.isFinite(x) ? round(x, digits).toLocaleString('en-US') : '–');
const signed = (x: number, digits = 1): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${fmt(x, digits)}` : '–');

export function buildSoakReport(i: SoakInput): { data: Record<string, unknown>; markdown: string; png: Buffer; ok: boolean } {
  const { samples, probes, outcome: out } = i;
  const pids = [...new Set(probes.map((p) => p.pid))];
  const perPid = <T>(f: (p: ProbeLine) => T) => pids.map((pid) => probes.filter((p) => p.pid === pid).map((p) => [p.t, f(p)] as [number, T]));
  const ruleNames = [...new Set(samples.flatMap((s) => Object.keys(s.ruleLagS)))].sort();
  const stateIds = [...new Set(samples.flatMap((s) => Object.keys(s.stateBytes)))].sort();
  const whole = <T>(f: (s: Sample) => T | undefined) => [samples.filter((s) => f(s) !== undefined).map((s) => [s.t, f(s)!] as [number, T])];
  const disturbed = [...i.faults, ...i.restarts];
  const steady = (t: number) => !disturbed.some((d) => t >= d.from && t <= d.to + RECOVERY_MS);

  const rows: Growth[] = [
    growth('worker RSS', 'MB', perPid((p) => p.rss / MB)),
    growth('worker heap used', 'MB', perPid((p) => p.heapUsed / MB)),
    growth('worker heap total', 'MB', perPid((p) => p.heapTotal / MB)),
    growth('event-loop delay p99', 'ms', perPid((p) => p.lagP99Ms)),
    growth('event-loop utilisation', '%', perPid((p) => p.elu * 100)),
    growth('largest state document', 'KB', whole((s) => (Object.keys(s.stateBytes).length ? Math.max(...Object.values(s.stateBytes)) / 1024 : undefined))),
    growth('state index, all documents', 'KB', whole((s) => Object.values(s.stateBytes).reduce((a, b) => a + b, 0) / 1024)),
    growth('outbox pending', 'items', whole((s) => s.outbox.pending)),
    growth('outbox documents (sent are kept)', 'items', whole((s) => s.outbox.total)),
    ...ruleNames.map((r) => growth(`rule lag, ${r}`, 's', whole((s) => s.ruleLagS[r]))),
  ];
  const lag = ruleNames.map((r) => {
    const all = samples.map((s) => s.ruleLagS[r]).filter((v): v is number => v !== undefined);
    const calm = samples.filter((s) => steady(s.t)).map((s) => s.ruleLagS[r]).filter((v): v is number => v !== undefined);
    return { rule: r, steadyP50: percentile(calm, 50), steadyP99: percentile(calm, 99), steadyMax: Math.max(...calm), max: Math.max(...all) };
  });

  const a = out.alerts;
  const n = out.notifications;
  const ok = a.missing.length === 0 && a.unexpected.length === 0 && a.duplicated.length === 0 && n.missing.length === 0 &&
    n.duplicatesWithDifferentIds === 0 && out.documents.rejected === 0 && out.caughtUp && a.expected > 0;
  const minutes = (i.endedAt - i.startedAt) / 60_000;
  const machine = i.machine as { cpus: number; model: string; totalMemMB: number; node: string; loadavg: number[] };

  const md: string[] = [];
  md.push(`## Soak: ${i.options.minutes} minutes (${fmt(minutes, 1)} with the catch-up and checks), ${i.options.rate} documents/s, both seed rules every ${i.intervalS} s`);
  md.push('');
  md.push(`${new Date(i.startedAt).toISOString()}; ${machine.cpus} × ${machine.model}, ${fmt(machine.totalMemMB / 1024, 0)} GB, Node ${machine.node}, load ${machine.loadavg.join(' / ')} at the end. ` +
    `${i.faults.length} faults of ${i.options.faultForS} s (${[...new Set(i.faults.map((f) => f.label))].join(', ')}), ${i.restarts.length} restart(s). Growth per hour: least-squares slope after ${WARMUP_MS / 60_000} min of warm-up, for each worker process (before / after the restart) or for the whole run.`);
  md.push('');
  md.push('| series | unit | first | last | min | max | growth per hour |');
  md.push('|---|---|---:|---:|---:|---:|---:|');
  for (const g of rows) md.push(`| ${g.series} | ${g.unit} | ${fmt(g.first)} | ${fmt(g.last)} | ${fmt(g.min)} | ${fmt(g.max)} | ${g.perHour.map((x) => signed(x)).join(' / ')} |`);
  md.push('');
  md.push('| rule | lag p50 (steady) | lag p99 (steady) | lag max (steady) | lag max (faults included) |');
  md.push('|---|---:|---:|---:|---:|');
  for (const l of lag) md.push(`| ${l.rule} | ${fmt(l.steadyP50)} s | ${fmt(l.steadyP99)} s | ${fmt(l.steadyMax)} s | ${fmt(l.max)} s |`);
  md.push('');
  md.push(`"Steady" leaves out each fault and restart and the ${RECOVERY_MS / 1000} s after it. Lag: how far the rule's checkpoint is behind now (the worker's \`eqlwatch_rule_lag_seconds\` after its last successful run, plus the time since that run).`);
  md.push('');
  md.push('| check | result |');
  md.push('|---|---|');
  md.push(`| documents indexed (rejected) | ${out.documents.indexed.toLocaleString('en-US')} (${out.documents.rejected})${out.documents.lastError ? `, last error ${out.documents.lastError}` : ''} |`);
  md.push(`| attacks injected | ${out.documents.attacks} |`);
  md.push(`| alerts \`eqlwatch replay\` gives over every document | ${a.expected} |`);
  md.push(`| alerts written (missing, unexpected, duplicated) | ${a.written} (${a.missing.length}, ${a.unexpected.length}, ${a.duplicated.length}) |`);
  md.push(`| notifiable alerts / mails received | ${n.expected} / ${n.mails} |`);
  md.push(`| alerts never mailed; extra mails (at-least-once repeats); repeats with another notification id | ${n.missing.length}; ${n.duplicates}; ${n.duplicatesWithDifferentIds} |`);
  md.push(`| proxy: requests forwarded, and answered or broken by faults | ${Object.entries(out.proxy).map(([k, v]) => `${k} ${v}`).join(', ')} |`);
  md.push(`| worker log lines by level | ${Object.entries(out.worker.levels).map(([k, v]) => `${k} ${v}`).join(', ')} |`);
  md.push(`| caught up at the end | ${out.caughtUp ? 'yes' : 'NO'} |`);
  md.push(`| **verdict** | **${ok ? 'PASS' : 'FAIL'}** |`);
  const problems = Object.entries(out.worker.problems).sort((x, y) => y[1] - x[1]).slice(0, 12);
  if (problems.length > 0) {
    md.push('');
    md.push('Worker warnings and errors (grouped, most frequent first):');
    md.push('');
    for (const [msg, c] of problems) md.push(`- ${c} × ${msg.replace(/\|/g, '\\|')}`);
  }
  md.push('');

  const x = (t: number) => (t - i.startedAt) / 60_000;
  const probeSeries = (name: string, f: (p: ProbeLine) => number): Series => {
    const points: [number, number | null][] = [];
    for (const [k, p] of probes.entries()) {
      if (k > 0 && probes[k - 1]!.pid !== p.pid) points.push([x(p.t) - 0.01, null]);
      points.push([x(p.t), f(p)]);
    }
    return { name, points };
  };
  const sampleSeries = (name: string, f: (s: Sample) => number | undefined): Series => ({ name, points: samples.map((s) => [x(s.t), f(s) ?? null]) });
  const bands: Band[] = i.faults.map((f) => ({ from: x(f.from), to: x(f.to), label: f.label }));
  const png = renderLineCharts({
    title: `eqlwatch soak: ${i.options.minutes} min + catch-up, ${i.options.rate} docs/s, rules every ${i.intervalS} s, faults shaded, restart marked — ${ok ? 'PASS' : 'FAIL'}`,
    xLabel: 'minutes since start',
    bands,
    markers: i.restarts.map((r) => ({ at: x(r.from), label: 'restart' })),
    panels: [
      { title: 'Worker memory', yLabel: 'MB', series: [probeSeries('RSS', (p) => p.rss / MB), probeSeries('heap total', (p) => p.heapTotal / MB), probeSeries('heap used', (p) => p.heapUsed / MB)] },
      { title: 'Worker event-loop delay (per 5 s)', yLabel: 'ms', series: [probeSeries('p99', (p) => p.lagP99Ms), probeSeries('max', (p) => p.lagMaxMs)] },
      {
        title: 'Rule lag (checkpoint behind now)',
        yLabel: 's',
        series: [...ruleNames.map((r) => sampleSeries(r.length > 40 ? `${r.slice(0, 38)}…` : r, (s) => s.ruleLagS[r])), { ...sampleSeries('rule interval', () => i.intervalS), dashed: true }],
      },
      { title: 'State documents', yLabel: 'KB', series: stateIds.map((id) => sampleSeries(id.length > 40 ? `${id.slice(0, 38)}…` : id, (s) => (s.stateBytes[id] ?? 0) / 1024)) },
      { title: 'Alerts and notifications', yLabel: 'count', series: [sampleSeries('alerts written', (s) => s.alerts), sampleSeries('mails received', (s) => s.mails), sampleSeries('outbox pending', (s) => s.outbox.pending)] },
    ],
  });
  return {
    data: { machine: i.machine, options: i.options, minutes, growth: rows, lag, outcome: out, faults: i.faults, restarts: i.restarts, samples, probes, ok },
    markdown: md.join('\n'),
    png,
    ok,
  };
}
