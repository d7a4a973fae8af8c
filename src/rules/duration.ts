/**
 * Kibana-style durations (`5m`, `30s`, `1h`) and relative date math (`now-6m`) used by rule schedules.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `<positive integer><unit>` (ms, s, m, h, d) to milliseconds, or returns undefined. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = UNIT_MS[m[2]!];
  if (!Number.isSafeInteger(n) || n <= 0 || unit === undefined) return undefined;
  return n * unit;
}

/** Parses `now-<duration>` (the only `from` form detection rules use) to a lookback in ms. */
export function parseLookback(text: string): number | undefined {
  const t = text.trim();
  if (t === 'now') return 0;
  const m = /^now-(.+)$/.exec(t);
  return m ? parseDuration(m[1]!) : undefined;
}
