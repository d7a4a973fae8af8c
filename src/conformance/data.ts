/**
 * Test events: Elasticsearch's `.data` files (a JSON array with `//` comment lines), plain
 * `.json` arrays, and NDJSON. Plus the one transformation Elasticsearch's `DataLoader` applies
 * to the endgame data: the Windows FILETIME `timestamp` becomes an epoch-millis `@timestamp`.
 */
import type { EqlEvent } from '../eql/compiled.js';
import { parseLenientJsonStream, type LenientJson } from './json-lenient.js';

export class DataFormatError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'DataFormatError';
  }
}

/** A raw event as read: integers beyond 2^53 are still BigInt until `finaliseEvent`. */
export type RawEvent = { [key: string]: LenientJson };

/**
 * Parse events from a file's text. Accepts one JSON array of objects (`.json`, `.data`), or a
 * stream of objects (NDJSON), with `//`, `#` and block comments anywhere outside strings.
 */
export function parseEvents(text: string, file: string): RawEvent[] {
  let values: LenientJson[];
  try {
    values = parseLenientJsonStream(text);
  } catch (e) {
    throw new DataFormatError(file, (e as Error).message);
  }
  const items = values.length === 1 && Array.isArray(values[0]) ? values[0] : values;
  return items.map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new DataFormatError(file, `event #${i + 1} is not a JSON object`);
    }
    return item;
  });
}

/** Milliseconds from 1601-01-01 (FILETIME epoch) to 1970-01-01. */
const FILETIME_EPOCH_DIFF_MS = 11644473600000n;
/** FILETIME counts 100 ns ticks. */
const FILETIME_TICKS_PER_MS = 10000n;

/**
 * Windows FILETIME → Unix epoch millis, as `DataLoader.winFileTimeToUnix` (Java long division,
 * i.e. truncation). Exact for the full FILETIME range because it works on BigInt.
 */
export function filetimeToUnixMillis(filetime: bigint | number): number {
  const ticks = typeof filetime === 'bigint' ? filetime : BigInt(filetime);
  return Number(ticks / FILETIME_TICKS_PER_MS - FILETIME_EPOCH_DIFF_MS);
}

/**
 * The endgame transform (`DataLoader.timestampToUnixMillis`): `@timestamp` = FILETIME `timestamp`
 * converted; `timestamp` itself is kept. Elasticsearch asserts the value is a long; so do we.
 */
export function filetimeTimestampTransform(event: RawEvent, file = 'data'): void {
  const ts = event['timestamp'];
  const integral = typeof ts === 'bigint' || (typeof ts === 'number' && Number.isInteger(ts));
  if (!integral) throw new DataFormatError(file, `event has no integer FILETIME "timestamp" (got ${JSON.stringify(String(ts))})`);
  event['@timestamp'] = filetimeToUnixMillis(ts as bigint | number);
}

/**
 * The endgame-140-nanos transform (`DataLoader.timestampToUnixNanos`): the FILETIME value's digits
 * are taken as nanoseconds since the Unix epoch; `@timestamp` becomes the string
 * "<millis>[.<nanos fraction>]" and `timestamp` the whole milliseconds (long division).
 */
export function filetimeNanosTransform(event: RawEvent, file = 'data'): void {
  const ts = event['timestamp'];
  const integral = typeof ts === 'bigint' || (typeof ts === 'number' && Number.isInteger(ts));
  if (!integral) throw new DataFormatError(file, `event has no integer "timestamp" (got ${JSON.stringify(String(ts))})`);
  const digits = BigInt(ts as bigint | number).toString();
  if (digits.length <= 12) throw new DataFormatError(file, `"timestamp" ${digits} is too short to read as nanoseconds`);
  const millis = digits.slice(0, 12);
  const fraction = digits.slice(12);
  event['@timestamp'] = fraction === '000000' ? millis : `${millis}.${fraction}`;
  event['timestamp'] = BigInt(ts as bigint | number) / 1_000_000n;
}

/**
 * Last step: BigInt → number (what any JavaScript consumer of Elasticsearch `_source` sees), so the
 * engine only ever receives plain JSON values.
 */
export function finaliseEvent(event: RawEvent): EqlEvent {
  return toPlain(event) as EqlEvent;
}

function toPlain(v: LenientJson): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toPlain);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      Object.defineProperty(out, k, { value: toPlain(x), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}
