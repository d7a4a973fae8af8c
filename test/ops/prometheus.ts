/**
 * A strict reader of the Prometheus text exposition format (0.0.4), written from the format's description,
 * independent of src/ops/metrics.ts: every sample must belong to a metric declared by a `# TYPE` line before
 * it, label values may only use the escapes `\\`, `\"` and `\n`, and values are floats (or NaN/±Inf).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses `text`; throws with the line number on the first violation. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    const at = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`${at}: bad metric name`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${at}: unknown type`);
        if (types.has(name)) throw new Error(`${at}: second TYPE line for ${name}`);
        if (samples.some((s) => familyOf(s.name, types) === name || s.name === name)) throw new Error(`${at}: TYPE after samples`);
        types.set(name, rest);
      } else {
        if (help.has(name)) throw new Error(`${at}: second HELP line for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`${at}: bad escape in HELP`);
        help.set(name, rest);
      }
      return;
    }
    const s = parseSample(line, at);
    if (familyOf(s.name, types) === undefined) throw new Error(`${at}: sample of undeclared metric ${s.name}`);
    samples.push(s);
  });
  return { types, help, samples };
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : null;
    if (base && (types.get(base) === 'histogram' || types.get(base) === 'summary')) return base;
  }
  return undefined;
}

function parseSample(line: string, at: string): Sample {
  let i = 0;
  while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i]!)) i++;
  const name = line.slice(0, i);
  if (!NAME.test(name)) throw new Error(`${at}: bad metric name`);
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const start = i;
      while (i < line.length && /[a-zA-Z0-9_]/.test(line[i]!)) i++;
      const key = line.slice(start, i);
      if (!LABEL_NAME.test(key)) throw new Error(`${at}: bad label name`);
      if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`${at}: expected ="`);
      i += 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`${at}: unterminated label value`);
        if (c === '"') break;
        if (c === '\\') {
          const n = line[i + 1];
          if (n === '\\') value += '\\';
          else if (n === '"') value += '"';
          else if (n === 'n') value += '\n';
          else throw new Error(`${at}: bad escape \\${n ?? ''}`);
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      i++;
      if (key in labels) throw new Error(`${at}: duplicate label ${key}`);
      labels[key] = value;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`${at}: expected , or }`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`${at}: expected a space before the value`);
  const [valueText, ts, extra] = line.slice(i + 1).split(' ');
  if (extra !== undefined || (ts !== undefined && !/^-?\d+$/.test(ts))) throw new Error(`${at}: trailing garbage`);
  // Prometheus reads values with Go's strconv.ParseFloat, which matches NaN and Inf ignoring case.
  const special = valueText?.toLowerCase();
  const value = special === 'nan' ? NaN : special === '+inf' ? Infinity : special === '-inf' ? -Infinity : Number(valueText);
  if (valueText === undefined || valueText === '' || (Number.isNaN(value) && special !== 'nan')) throw new Error(`${at}: bad value`);
  return { name, labels, value };
}

/** The value of the sample `name` whose labels include `labels` (undefined if none). */
export function sampleValue(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  return e.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
