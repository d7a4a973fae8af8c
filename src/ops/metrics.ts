/**
 * The worker's Prometheus metrics, on prom-client (one registry per Metrics, so tests and several workers in
 * one process never share series). The facade keeps the worker's call sites small: `counter`, `gauge` and
 * `histogram` return the function that records a value, with labels given per call.
 *
 * prom-client wants a metric's label names up front, the facade's callers give labels per call: each metric
 * is registered when defined (so `/metrics` lists it, HELP and TYPE, before anything is recorded) and gets
 * its label names from its first use. Every later use must name a subset of those labels (prom-client's
 * rule); anything else throws, which the tests catch: one metric, one label set.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';

type Labels = Record<string, string>;

type Kind = 'counter' | 'gauge' | 'histogram';

interface Entry {
  kind: Kind;
  help: string;
  buckets?: number[];
  metric: Metric<string>;
  /** Fixed by the first use. */
  labelNames?: string[];
  /**
   * The current value per label set (a histogram's: its observation count), for `value()`: prom-client only
   * reads metrics asynchronously, and callers (tests, health checks) want a plain number.
   */
  current: Map<string, number>;
}

export interface MetricsOptions {
  /** Also export prom-client's default process metrics (CPU, memory, event loop lag, GC, handles). */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly entries = new Map<string, Entry>();

  constructor(opts: MetricsOptions = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  counter(name: string, help: string): (labels?: Labels, by?: number) => void {
    const e = this.define(name, help, 'counter');
    return (labels = {}, by = 1) => {
      (this.metric(name, e, labels) as Counter<string>).inc(labels, by);
      const key = labelKey(labels);
      e.current.set(key, (e.current.get(key) ?? 0) + by);
    };
  }

  gauge(name: string, help: string): (labels: Labels, value: number) => void {
    const e = this.define(name, help, 'gauge');
    return (labels, value) => {
      (this.metric(name, e, labels) as Gauge<string>).set(labels, value);
      e.current.set(labelKey(labels), value);
    };
  }

  /** `buckets`: upper bounds in the unit of the observed values (seconds for latencies, by convention). */
  histogram(name: string, help: string, buckets: number[]): (labels: Labels, value: number) => void {
    const e = this.define(name, help, 'histogram', buckets);
    return (labels, value) => {
      (this.metric(name, e, labels) as Histogram<string>).observe(labels, value);
      const key = labelKey(labels);
      e.current.set(key, (e.current.get(key) ?? 0) + 1);
    };
  }

  /** A counter's or gauge's current value for exactly these labels (a histogram's: its observation count). */
  value(name: string, labels: Labels = {}): number | undefined {
    return this.entries.get(name)?.current.get(labelKey(labels));
  }

  /** The Prometheus text exposition (format 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private define(name: string, help: string, kind: Kind, buckets?: number[]): Entry {
    let e = this.entries.get(name);
    if (!e) {
      e = { kind, help, ...(buckets ? { buckets } : {}), metric: this.create(name, help, kind, [], buckets), current: new Map() };
      // No series until something is recorded (prom-client starts a label-less metric at 0).
      (e.metric as Counter<string>).remove({});
      this.entries.set(name, e);
    } else if (e.kind !== kind) {
      throw new Error(`metric ${name} is already defined as a ${e.kind}`);
    }
    return e;
  }

  private create(name: string, help: string, kind: Kind, labelNames: string[], buckets?: number[]): Metric<string> {
    const config = { name, help, labelNames, registers: [this.registry] };
    if (kind === 'counter') return new Counter(config);
    if (kind === 'gauge') return new Gauge(config);
    return new Histogram({ ...config, ...(buckets ? { buckets } : {}) });
  }

  private metric(name: string, e: Entry, labels: Labels): Metric<string> {
    const keys = Object.keys(labels);
    if (e.labelNames === undefined) {
      e.labelNames = keys;
      if (keys.length > 0) {
        this.registry.removeSingleMetric(name);
        e.metric = this.create(name, e.help, e.kind, keys, e.buckets);
      }
    } else {
      const extra = keys.filter((k) => !e.labelNames!.includes(k));
      if (extra.length > 0) throw new Error(`metric ${name}: label(s) ${extra.join(', ')} not among ${e.labelNames.join(', ') || '(none)'}, fixed by its first use`);
    }
    return e.metric;
  }
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}
