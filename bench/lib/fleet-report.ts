/**
 * The fleet benchmark's figures per mode, its table (text and Markdown), the PNG plot of latency and requests
 * over time (bench/lib/plot.ts), the `--json` summary (one object per mode under `runs`) and the problems that
 * make the bench fail (alerts expected ≠ written, rejected documents, the Kibana window's alerts ≠ replay's).
 */
import type { Feed } from './fleet-feed.js';
import type { AlertLatency, Quantiles, Request } from './fleet-measure.js';
import { quantiles } from './fleet-measure.js';
import type { WindowResult } from './fleet-window.js';
import { renderLineCharts, type Series } from './plot.js';
import { mb, round, table } from './report.js';
import type { Outcome } from './soak-report.js';

export interface ModeResult {
  mode: 'shared' | 'rule-by-rule';
  rules: number;
  groups: number;
  t0: number;
  ingestEnd: number;
  documents: number;
  rejected: number;
  lastError: string | null;
  maxSendLagMs: number;
  requests: Request[];
  cpuSteadyS: number;
  cpuTotalS: number;
  peakRssBytes: number;
  samples: { t: number; cpuCores: number; ingested: number }[];
  latencies: AlertLatency[];
  histogram: { written: { count: number; p50: number; p99: number } | null };
  alerts: Outcome['alerts'];
  exported: number;
  union: number;
  distinctFetched: number;
  candidatesPerRule: Record<string, number>;
  attacks: { injected: number; detected: number; missed: string[] };
  ruleRunsOk: number;
  caughtUp: boolean;
  caughtUpS: number;
  workerLog: string;
  exit: { code: number | null; signal: string | null };
}

interface ReportInput {
  machine: Record<string, unknown>;
  options: { minutes: number; rate: number; intervalS: number; latenessS: number; ingestDelayMs: number; attacksPerRule: number; seed: number };
  results: ModeResult[];
  window: WindowResult | null;
  feed: Feed;
  corpus: boolean;
  /** The groups shared scans form (index patterns, read field, rules). */
  groups: { rules: number; index: string; kind: string }[];
}

const FETCH_KINDS = /_search|_mget/;

function figures(r: ModeResult, intervalS: number) {
  const steady = r.requests.filter((q) => q.t >= r.t0 && q.t < r.ingestEnd);
  const windows = (r.ingestEnd - r.t0) / 1000 / intervalS;
  const fetched = r.requests.filter((q) => FETCH_KINDS.test(q.kind));
  const docs = fetched.reduce((n, q) => n + q.docs, 0);
  const bytes = fetched.reduce((n, q) => n + q.bytes, 0);
  const allWindows = (r.ingestEnd + r.caughtUpS * 1000 - r.t0) / 1000 / intervalS;
  const byKind: Record<string, number> = {};
  const msByKind: Record<string, number> = {};
  for (const q of steady) {
    byKind[q.kind] = (byKind[q.kind] ?? 0) + 1 / windows;
    msByKind[q.kind] = (msByKind[q.kind] ?? 0) + q.ms / windows;
  }
  for (const k of Object.keys(byKind)) {
    byKind[k] = round(byKind[k]!, 2);
    msByKind[k] = round(msByKind[k]!, 0);
  }
  const single = quantiles(r.latencies.filter((l) => l.kind === 'single').map((l) => l.latencyS));
  const sequence = quantiles(r.latencies.filter((l) => l.kind === 'sequence').map((l) => l.latencyS));
  const all = quantiles(r.latencies.map((l) => l.latencyS));
  return {
    eventsPerS: r.documents / ((r.ingestEnd - r.t0) / 1000),
    requestsPerWindow: steady.length / windows,
    byKind,
    msByKind,
    docsFetched: docs,
    bytesFetched: bytes,
    docsPerWindow: docs / allWindows,
    bytesPerWindow: bytes / allWindows,
    unionPerWindow: r.union / allWindows,
    fetchedOverUnion: r.union > 0 ? docs / r.union : NaN,
    fetchedOverDistinct: r.distinctFetched > 0 ? docs / r.distinctFetched : NaN,
    runsPerRule: r.ruleRunsOk / r.rules,
    // A mode that cannot keep up runs each rule less often than the interval: per round, the modes compare.
    requestsPerRound: r.requests.filter((q) => q.t >= r.t0).length / (r.ruleRunsOk / r.rules),
    achievedIntervalS: (r.ingestEnd + r.caughtUpS * 1000 - r.t0) / 1000 / (r.ruleRunsOk / r.rules),
    cpuCores: r.cpuSteadyS / ((r.ingestEnd - r.t0) / 1000),
    single,
    sequence,
    all,
  };
}

const fmtQ = (q: Quantiles): string => (q.n === 0 ? '–' : `${round(q.p50, 1)} / ${round(q.p99, 1)} / ${round(q.max, 1)} s (${q.n})`);

export function fleetReport(i: ReportInput) {
  const { results, options: o } = i;
  const figs = results.map((r) => figures(r, o.intervalS));
  const problems: string[] = [];
  for (const r of results) {
    const a = r.alerts;
    if (a.expected !== a.written || a.missing.length + a.unexpected.length + a.duplicated.length > 0) {
      problems.push(`${r.mode}: alerts expected ${a.expected}, written ${a.written} (missing ${a.missing.length}, unexpected ${a.unexpected.length}, duplicated ${a.duplicated.length}); e.g. ${[...a.missing, ...a.unexpected].slice(0, 3).join(', ')}`);
    }
    if (r.rejected > 0) problems.push(`${r.mode}: ${r.rejected} document(s) rejected by the node (${r.lastError})`);
    if (!r.caughtUp) problems.push(`${r.mode}: the worker had not run every rule past the end of the feed within the catch-up bound`);
  }
  if (i.window && !i.window.equal) problems.push(`Kibana window: ${i.window.alertsWritten} alerts written, ${i.window.alertsExpected} expected by replay`);

  const rows = [
    ['rules (groups)', ...results.map((r) => `${r.rules} (${r.groups})`)],
    ['events ingested per s', ...figs.map((f) => round(f.eventsPerS, 0))],
    ['ES requests per window', ...figs.map((f) => round(f.requestsPerWindow, 1))],
    ['ES requests per round (every rule run once)', ...figs.map((f) => round(f.requestsPerRound, 0))],
    ['docs fetched per window', ...figs.map((f) => round(f.docsPerWindow, 0))],
    ['bytes fetched per window', ...figs.map((f) => `${round(f.bytesPerWindow / 1024, 0)} KB`)],
    ['union of candidates per window', ...figs.map((f) => round(f.unionPerWindow, 0))],
    ['fetched ÷ union of candidates', ...figs.map((f) => round(f.fetchedOverUnion, 2))],
    ['fetched ÷ distinct documents fetched', ...figs.map((f) => round(f.fetchedOverDistinct, 2))],
    ['worker CPU (cores, while ingesting)', ...figs.map((f) => round(f.cpuCores, 2))],
    ['worker peak RSS', ...results.map((r) => `${mb(r.peakRssBytes)} MB`)],
    ['latency single-event p50 / p99 / max', ...figs.map((f) => fmtQ(f.single))],
    ['latency sequence p50 / p99 / max', ...figs.map((f) => fmtQ(f.sequence))],
    ['latency /metrics p50 / p99 (bucket)', ...results.map((r) => (r.histogram.written ? `≤ ${r.histogram.written.p50} / ≤ ${r.histogram.written.p99} s (${r.histogram.written.count})` : '–'))],
    ['alerts expected (replay) / written', ...results.map((r) => `${r.alerts.expected} / ${r.alerts.written}`)],
    ['generated attacks detected', ...results.map((r) => `${r.attacks.detected} / ${r.attacks.injected}`)],
    ['runs per rule (achieved interval)', ...figs.map((f) => `${round(f.runsPerRule, 0)} (${round(f.achievedIntervalS, 1)} s)`)],
  ];
  const header = ['', ...results.map((r) => (r.mode === 'shared' ? 'shared scans' : 'rule by rule'))];
  const text = table(header, rows as (string | number)[][]);
  const md = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  const w = i.window;
  const bestWindow = w ? [...w.runs].sort((a, b) => a.cpuMs - b.cpuMs)[0]! : null;
  const markdown = [
    `# bench:fleet`,
    '',
    `Machine: ${JSON.stringify(i.machine)}. Feed: ${o.minutes} min per mode at ${o.rate} documents/s requested, ${i.feed.docs.length} documents (${i.feed.fileEvents} file events, ${[...i.feed.attacks.values()].reduce((n, l) => n + l.length, 0)} generated attacks, ${i.feed.removedFalsePositives} benign false positives removed); worker.interval ${o.intervalS}s, worker.lateness ${o.latenessS}s, worker.ingestDelay ${o.ingestDelayMs} ms.${i.corpus ? '' : ' The container rules corpus was absent: seed rules only.'}`,
    '',
    md(header),
    md(header.map(() => '---')),
    ...rows.map((r) => md(r as (string | number)[])),
    '',
    `Groups with shared scans: ${i.groups.map((g) => `${g.rules} ${g.kind} rule(s) on ${g.index}`).join('; ')}.`,
    '',
    `Requests per window by kind: ${results.map((r, k) => `${r.mode}: ${JSON.stringify(figs[k]!.byKind)}`).join('; ')}.`,
    '',
    `Elasticsearch time per window by kind (ms, summed over concurrent requests): ${results.map((r, k) => `${r.mode}: ${JSON.stringify(figs[k]!.msByKind)}`).join('; ')}.`,
    ...(i.feed.unsatisfied.length > 0 ? ['', `Rules no attack could be generated for: ${i.feed.unsatisfied.map((u) => `${u.name} (${u.reason})`).join('; ')}.`] : []),
    ...(w && bestWindow
      ? ['', `Kibana's timing-out window (${w.events} events, ${w.joinKeys} join keys in ${w.spanMinutes} min, the seed sequence rule): one worker run reads ${bestWindow.eventsRead} events in ${round(bestWindow.wallMs, 0)} ms wall, ${round(bestWindow.cpuMs, 0)} ms of worker CPU (best of ${w.runs.length}: ${w.runs.map((r) => `${round(r.wallMs, 0)} ms / ${round(r.cpuMs, 0)} ms CPU`).join(', ')}), requests ${JSON.stringify(bestWindow.requests)}; alerts ${w.alertsWritten} written, ${w.alertsExpected} expected by replay.`]
      : []),
    ...(problems.length > 0 ? ['', `FAIL: ${problems.join('; ')}`] : ['', 'PASS: every mode wrote exactly the alerts replay expects.']),
  ].join('\n');

  const png = plot(results, o.intervalS);
  const summary = {
    bench: 'fleet',
    machine: i.machine,
    options: o,
    ok: problems.length === 0,
    problems,
    groups: i.groups,
    window: w ? { events: w.events, join_keys: w.joinKeys, span_minutes: w.spanMinutes, wall_ms: round(bestWindow!.wallMs, 0), cpu_ms: round(bestWindow!.cpuMs, 0), events_read: bestWindow!.eventsRead, alerts_expected: w.alertsExpected, alerts_written: w.alertsWritten } : null,
    runs: results.map((r, k) => {
      const f = figs[k]!;
      return {
        mode: r.mode,
        rules: r.rules,
        groups: r.groups,
        events_per_s: round(f.eventsPerS, 0),
        requests_per_window: round(f.requestsPerWindow, 1),
        requests_per_round: round(f.requestsPerRound, 1),
        requests_per_window_by_kind: f.byKind,
        es_ms_per_window_by_kind: f.msByKind,
        docs_fetched_per_window: round(f.docsPerWindow, 1),
        bytes_fetched_per_window: round(f.bytesPerWindow, 0),
        candidates_union_per_window: round(f.unionPerWindow, 1),
        docs_fetched_over_candidates: round(f.fetchedOverUnion, 3),
        docs_fetched_over_distinct_fetched: round(f.fetchedOverDistinct, 3),
        achieved_interval_s: round(f.achievedIntervalS, 2),
        worker_cpu_cores: round(f.cpuCores, 3),
        worker_peak_rss_mb: mb(r.peakRssBytes),
        latency_p50_s: round(f.all.p50, 2),
        latency_p99_s: round(f.all.p99, 2),
        latency_max_s: round(f.all.max, 2),
        latency_single: { n: f.single.n, p50_s: round(f.single.p50, 2), p99_s: round(f.single.p99, 2), max_s: round(f.single.max, 2) },
        latency_sequence: { n: f.sequence.n, p50_s: round(f.sequence.p50, 2), p99_s: round(f.sequence.p99, 2), max_s: round(f.sequence.max, 2) },
        latency_metrics_alert_written: r.histogram.written,
        alerts_expected: r.alerts.expected,
        alerts_written: r.alerts.written,
        attacks_injected: r.attacks.injected,
        attacks_detected: r.attacks.detected,
        documents: r.documents,
        rejected: r.rejected,
        max_send_lag_ms: r.maxSendLagMs,
        caught_up_s: round(r.caughtUpS, 1),
      };
    }),
  };
  const data = { ...summary, results: results.map((r) => ({ ...r, requests: undefined, requestCount: r.requests.length, attacks: { ...r.attacks, missed: r.attacks.missed.slice(0, 50) } })), unsatisfied: i.feed.unsatisfied };
  return { text, markdown, png, summary, data, problems };
}

function plot(results: ModeResult[], intervalS: number): Buffer {
  const label = (r: ModeResult) => (r.mode === 'shared' ? 'shared scans' : 'rule by rule');
  const minutes = (r: ModeResult, t: number) => round((t - r.t0) / 60_000, 3);
  // The slowest alert written in each window (gaps where none was).
  const latency: Series[] = results.flatMap((r) => (['single', 'sequence'] as const).map((kind) => {
    const worst = new Map<number, number>();
    for (const l of r.latencies.filter((x) => x.kind === kind)) {
      const b = Math.floor((l.at - r.t0) / (intervalS * 1000));
      worst.set(b, Math.max(worst.get(b) ?? 0, l.latencyS));
    }
    const n = Math.ceil((r.ingestEnd + r.caughtUpS * 1000 - r.t0) / (intervalS * 1000));
    return {
      name: `${label(r)}, ${kind === 'single' ? 'single-event' : 'sequence'}`,
      points: Array.from({ length: n }, (_, b) => [round((b * intervalS) / 60, 3), worst.has(b) ? round(worst.get(b)!, 2) : null] as const),
    };
  })).filter((s) => s.points.some((p) => p[1] !== null));
  const perWindow = (r: ModeResult, f: (q: Request) => number): Series => {
    const buckets = new Map<number, number>();
    const end = r.ingestEnd + r.caughtUpS * 1000;
    for (const q of r.requests) if (q.t >= r.t0 && q.t < end) { const b = Math.floor((q.t - r.t0) / (intervalS * 1000)); buckets.set(b, (buckets.get(b) ?? 0) + f(q)); }
    const n = Math.ceil((end - r.t0) / (intervalS * 1000));
    return { name: label(r), points: Array.from({ length: n }, (_, b) => [round((b * intervalS) / 60, 3), buckets.get(b) ?? 0] as const) };
  };
  return renderLineCharts({
    title: `bench:fleet: ${results[0]?.rules ?? 0} rules, worker.interval ${intervalS}s (x: minutes since the feed started)`,
    xLabel: 'minutes',
    panels: [
      { title: `detection latency, slowest alert written per ${intervalS}-s window (event arrival → alert written)`, yLabel: 's', series: latency },
      { title: `Elasticsearch requests per ${intervalS}-s window`, yLabel: 'requests', series: results.map((r) => perWindow(r, () => 1)) },
      { title: `documents fetched per ${intervalS}-s window`, yLabel: 'documents', series: results.map((r) => perWindow(r, (q) => (FETCH_KINDS.test(q.kind) ? q.docs : 0))) },
      { title: 'worker CPU', yLabel: 'cores', series: results.map((r) => ({ name: label(r), points: r.samples.map((s) => [minutes(r, s.t), round(s.cpuCores, 3)] as const) })) },
    ],
  });
}
