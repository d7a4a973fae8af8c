/**
 * How a problem found in a rule file becomes a RuleError at the right line and column, with a hint: unknown
 * keys (nearest known key), schema violations (zod issues, per key), EQL errors inside a query or an
 * exception (re-based from the query string onto the file).
 */
import type { z } from 'zod';
import type { EqlError } from '../eql/errors.js';
import { lineAt, positionOf, RuleError } from './errors.js';
import { didYouMean } from './known-keys.js';
import type { Rule } from './schema.js';

export type Locate = (key: string[]) => { line: number; column: number };

/** One rule file being checked: its text and how to find a key (and a character of a value) in it. */
export interface FileContext {
  file: string;
  text: string;
  format: Rule['source']['format'];
  locate: Locate;
  /** Exact position of the character at `offset` of the string value at `key`, where the format can tell. */
  locateValue?: (key: string[], offset: number) => { line: number; column: number } | undefined;
  /** Problems already found with keys outside the rule (e.g. an unknown top-level TOML table). */
  strayKeys?: RuleError[];
}

export function unknownKeyError(
  at: (key: string[], message: string, hint?: string) => RuleError,
  keyPath: string[],
  allowed: readonly string[],
  what: string,
): RuleError {
  const key = keyPath.at(-1)!;
  const hint = didYouMean(key, allowed) ??
    (allowed.length <= 8 ? `known keys here: ${allowed.join(', ')}` : `not ${what} of detection-rules or eqlwatch; README "Rules" lists the keys eqlwatch reads`);
  return at(keyPath, `unknown key ${keyPath.filter((k) => !/^\d+$/.test(k)).join('.')}`, hint);
}


/** How to write each rule key that has a format of its own. */
const KEY_HINTS: Record<string, string> = {
  risk_score: 'an integer from 0 to 100 (Kibana uses 21 low, 47 medium, 73 high, 99 critical)',
  interval: 'a positive integer and a unit, e.g. interval = "5m"',
  from: 'relative date math, e.g. from = "now-6m" (longer than interval, so windows overlap)',
  max_signals: 'an integer from 1 to 10000 (Kibana default 100)',
  index: 'a list of index patterns, e.g. index = ["logs-*"]',
  tags: 'a list of strings, e.g. tags = ["Domain: Container"]',
  exceptions: 'a list of EQL conditions, e.g. exceptions = [\'process.name == "apt"\']',
  enabled: 'true or false',
};

export function zodErrors(
  error: z.ZodError,
  input: Record<string, unknown>,
  prefix: string[],
  at: (key: (string | number | symbol)[], message: string, hint?: string) => RuleError,
): RuleError[] {
  // Unknown keys are reported by the unknown-key check (with a nearest-key hint), not a second time here.
  return error.issues.filter((issue) => issue.code !== 'unrecognized_keys').map((issue) => {
    const keyPath = [...prefix, ...issue.path.map(String)];
    const name = keyPath.join('.') || '(top level)';
    // zod 4 leaves `issue.input` out unless asked, so look the value up to tell "missing" from "wrong type".
    const missing = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined;
    let hint: string | undefined;
    if (missing) hint = `add ${issue.path.join('.')} = …`;
    else if (issue.code === 'invalid_value') hint = `one of: ${issue.values.map(String).join(', ')}`;
    hint ??= KEY_HINTS[String(issue.path.at(-1) ?? '')] ?? (issue.code === 'invalid_type' ? `expected ${issue.expected}` : undefined);
    return at(missing ? prefix : keyPath, missing ? `missing required key ${name}` : `${name}: ${issue.message}`, hint);
  });
}

function valueAt(input: unknown, keyPath: readonly PropertyKey[]): unknown {
  let v = input;
  for (const k of keyPath) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * Re-bases an EQL error inside a query string onto the rule file's line and column: exactly where the format
 * can map the value (YAML scalars, including `|` and `>` blocks), else by finding the query's text verbatim
 * after its key (TOML '''…''' strings, .eql files), else at the key.
 */
export function eqlErrorInFile(err: EqlError, ctx: FileContext, query: string, keyPath: string[]): RuleError {
  const { file, text } = ctx;
  const exact = ctx.locateValue?.(keyPath, err.offset);
  let line: number;
  let column: number;
  if (exact) {
    ({ line, column } = exact);
  } else {
    // Search from the key that holds the text: an exception's text may also occur inside the query.
    const key = ctx.locate(keyPath);
    const keyOffset = text.split('\n').slice(0, key.line - 1).reduce((n, l) => n + l.length + 1, 0);
    const fromKey = text.indexOf(query, keyOffset);
    const start = fromKey >= 0 ? fromKey : text.indexOf(query);
    ({ line, column } = start >= 0 ? positionOf(text, start + err.offset) : key);
  }
  const message = `EQL ${err.kind} error: ${err.message.split('\n')[0]}`;
  return new RuleError(message, file, line, column, err.hint ?? hintForEql(err), lineAt(text, line));
}

function hintForEql(err: EqlError): string | undefined {
  if (err.expected && err.expected.length > 0) return `expected ${err.expected.slice(0, 6).join(', ')}`;
  return undefined;
}
