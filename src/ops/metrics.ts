/**
 * A small Prometheus registry (text exposition format 0.0.4): counters and gauges with labels.
 * Hand-written because the worker needs only a handful of series.
 */
type Labels = Record<string, string>;

interface Series {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number }>;
}

export class Metrics {
  private readonly series = new Map<string, Series>();

  counter(name: string, help: string): (labels?: Labels, by?: number) => void {
    const s = this.define(name, help, 'counter');
    return (labels = {}, by = 1) => {
      const key = labelKey(labels);
      const cur = s.values.get(key);
      s.values.set(key, { labels, value: (cur?.value ?? 0) + by });
    };
  }

  gauge(name: string, help: string): (labels: Labels, value: number) => void {
    const s = this.define(name, help, 'gauge');
    return (labels, value) => {
      s.values.set(labelKey(labels), { labels, value });
    };
  }

  value(name: string, labels: Labels = {}): number | undefined {
    return this.series.get(name)?.values.get(labelKey(labels))?.value;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, s] of this.series) {
      lines.push(`# HELP ${name} ${s.help}`, `# TYPE ${name} ${s.type}`);
      for (const { labels, value } of s.values.values()) {
        const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
        lines.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : 'NaN'}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  private define(name: string, help: string, type: Series['type']): Series {
    let s = this.series.get(name);
    if (!s) {
      s = { help, type, values: new Map() };
      this.series.set(name, s);
    }
    return s;
  }
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Label values may hold rule names: escape as the exposition format requires. */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
