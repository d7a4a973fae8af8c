/**
 * Loads rules from files: Elastic detection-rules TOML as shipped, a short YAML form, and `.eql` files with
 * `// key: value` metadata. Every problem becomes a RuleError with file, line, column and a hint; a bad file
 * never prevents the others from loading.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { isMap, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { compileQuery, compileExpression } from '../eql/compile.js';
import { EqlError } from '../eql/errors.js';
import { parseExpression } from '../eql/parser.js';
import { lineAt, positionOf, RuleError } from './errors.js';
import { detectionRuleSchema, localSettingsSchema, toRule, type Rule } from './schema.js';

export const RULE_EXTENSIONS = ['.toml', '.yaml', '.yml', '.eql'] as const;

export type LoadOutcome =
  | { kind: 'rule'; rule: Rule }
  | { kind: 'skipped'; file: string; reason: string }
  | { kind: 'invalid'; file: string; errors: RuleError[] };

export interface LoadReport {
  rules: Rule[];
  skipped: { file: string; reason: string }[];
  errors: RuleError[];
  /** Files looked at, in load order. */
  files: string[];
}

/** Loads every rule file under `target` (a directory, searched recursively, or one file). */
export async function loadRules(target: string): Promise<LoadReport> {
  const files = await listRuleFiles(target);
  const report: LoadReport = { rules: [], skipped: [], errors: [], files };
  const seen = new Map<string, string>();
  for (const file of files) {
    const outcome = await loadRuleFile(file);
    if (outcome.kind === 'rule') {
      const other = seen.get(outcome.rule.id);
      if (other) {
        const text = await readFile(file, 'utf8').catch(() => '');
        const m = /^[ \t]*(?:\/\/[ \t]*)?(?:rule_id|id)[ \t]*[=:]/m.exec(text);
        const pos = m ? positionOf(text, m.index + m[0].length - m[0].trimStart().length) : { line: 1, column: 1 };
        report.errors.push(
          new RuleError(`duplicate rule id ${outcome.rule.id} (also in ${other})`, file, pos.line, pos.column,
            'every rule needs its own rule_id: alert ids and checkpoints are keyed by it', lineAt(text, pos.line)),
        );
        continue;
      }
      seen.set(outcome.rule.id, file);
      report.rules.push(outcome.rule);
    } else if (outcome.kind === 'skipped') {
      report.skipped.push({ file: outcome.file, reason: outcome.reason });
    } else {
      report.errors.push(...outcome.errors);
    }
  }
  return report;
}

export async function listRuleFiles(target: string): Promise<string[]> {
  const info = await stat(target);
  if (info.isFile()) return [target];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (RULE_EXTENSIONS.some((ext) => e.name.endsWith(ext))) out.push(full);
    }
  };
  await walk(target);
  return out;
}

export async function loadRuleFile(file: string): Promise<LoadOutcome> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return invalid(file, new RuleError(`cannot read rule file: ${(err as Error).message}`, file, 1, 1,
      'check the path and its permissions'));
  }
  return loadRuleText(file, text);
}

/** Parses and validates rule text; `file` decides the format and appears in messages. */
export function loadRuleText(file: string, text: string): LoadOutcome {
  if (file.endsWith('.toml')) return loadToml(file, text);
  if (file.endsWith('.yaml') || file.endsWith('.yml')) return loadYaml(file, text);
  if (file.endsWith('.eql')) return loadEql(file, text);
  return invalid(file, new RuleError('unknown rule file type', file, 1, 1, `use one of ${RULE_EXTENSIONS.join(', ')}`));
}

function invalid(file: string, ...errors: RuleError[]): LoadOutcome {
  return { kind: 'invalid', file, errors };
}

// ---------------------------------------------------------------------------------------------- TOML

function loadToml(file: string, text: string): LoadOutcome {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const message = err.message.split('\n')[0] ?? 'invalid TOML';
      return invalid(file, new RuleError(`invalid TOML: ${message}`, file, err.line, err.column,
        'check quoting and brackets; multi-line queries go between \'\'\' delimiters', lineAt(text, err.line)));
    }
    throw err;
  }
  const ruleTable = doc.rule;
  if (!isPlainObject(ruleTable)) {
    return invalid(file, new RuleError('missing [rule] table', file, 1, 1,
      'a detection-rules TOML file has a [rule] table with rule_id, name, type, query, severity and risk_score'));
  }
  const locate = (key: string[]): { line: number; column: number } => locateTomlKey(text, key);
  return finish(file, text, 'toml', ruleTable, isPlainObject(doc.eqlwatch) ? doc.eqlwatch : {}, locate,
    ['rule'], ['eqlwatch'], doc.eqlwatch !== undefined && !isPlainObject(doc.eqlwatch));
}

/** Best-effort position of `a.b` in TOML text: the line where the last key is assigned, else 1:1. */
function locateTomlKey(text: string, keyPath: string[]): { line: number; column: number } {
  const keys = keyPath.filter((k) => !/^\d+$/.test(k));
  const key = keys.at(-1);
  if (!key) return { line: 1, column: 1 };
  if (keys.length === 1) {
    // A table itself (e.g. a required key missing from [rule]): its header line.
    const header = new RegExp(`^[ \\t]*\\[[ \\t]*${escapeRe(key)}[ \\t]*\\]`, 'm').exec(text);
    if (header) return positionOf(text, header.index + header[0].length - header[0].trimStart().length);
  }
  const re = new RegExp(`^[ \\t]*${escapeRe(key)}[ \\t]*=`, 'm');
  const m = re.exec(text);
  if (!m) return { line: 1, column: 1 };
  const col = m[0].length - m[0].trimStart().length;
  return positionOf(text, m.index + col);
}

// ---------------------------------------------------------------------------------------------- YAML

/** YAML short form: rule fields at the top level (snake_case as in TOML), `id` accepted for rule_id. */
function loadYaml(file: string, text: string): LoadOutcome {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return invalid(file, ...doc.errors.map((e) => {
      // linePos is only filled with prettyErrors; the offset is always there.
      const at = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      return new RuleError(`invalid YAML: ${e.message.split('\n')[0]}`, file, at.line, at.col,
        'check indentation and quoting; put multi-line queries in a block scalar (query: |)', lineAt(text, at.line));
    }));
  }
  if (!isMap(doc.contents)) {
    return invalid(file, new RuleError('a YAML rule must be a mapping of keys to values', file, 1, 1,
      'start with e.g. "name: My rule" and "query: process where …"'));
  }
  const raw = doc.toJS() as Record<string, unknown>;
  const locate = (keyPath: string[]): { line: number; column: number } => {
    const node = doc.getIn(keyPath.length ? [keyPath[0]!] : [], true) as { range?: [number, number, number] } | undefined;
    const pair = isMap(doc.contents) ? doc.contents.items.find((p) => String((p.key as { value?: unknown })?.value) === keyPath[0]) : undefined;
    const keyNode = pair?.key as { range?: [number, number, number] } | undefined;
    const offset = keyNode?.range?.[0] ?? node?.range?.[0];
    if (offset === undefined) return { line: 1, column: 1 };
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  return shortForm(file, text, 'yaml', raw, locate);
}

// ---------------------------------------------------------------------------------------------- .eql

/** `.eql` form: leading `// key: value` lines are YAML metadata, the rest of the file is the query. */
function loadEql(file: string, text: string): LoadOutcome {
  const lines = text.split('\n');
  const meta: string[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^\s*\/\/\s?(.*)$/.exec(lines[i]!);
    if (!m) break;
    meta.push(m[1]!);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(meta.join('\n'), { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
    return invalid(file, new RuleError(`invalid metadata comment: ${e.message.split('\n')[0]}`, file, at.line,
      at.col + 3, 'metadata lines look like "// name: My rule"', lineAt(text, at.line)));
  }
  const metaObj = doc.contents === null ? {} : (doc.toJS() as unknown);
  if (!isPlainObject(metaObj)) {
    return invalid(file, new RuleError('metadata comments must be "// key: value" lines', file, 1, 1,
      'for example: // name: Shell in container'));
  }
  const query = lines.slice(i).join('\n');
  const raw = { ...metaObj, query };
  const locate = (keyPath: string[]): { line: number; column: number } => {
    const idx = meta.findIndex((l) => l.trimStart().startsWith(`${keyPath[0]}:`));
    return idx >= 0 ? { line: idx + 1, column: 4 } : { line: 1, column: 1 };
  };
  return shortForm(file, text, 'eql', raw, locate);
}

// ------------------------------------------------------------------------------------- shared checks

const RISK_BY_SEVERITY: Record<string, number> = { low: 21, medium: 47, high: 73, critical: 99 };

function shortForm(
  file: string,
  text: string,
  format: 'yaml' | 'eql',
  raw: Record<string, unknown>,
  locate: (key: string[]) => { line: number; column: number },
): LoadOutcome {
  const { enabled, exceptions, id, ...fields } = raw;
  const local: Record<string, unknown> = {};
  if (enabled !== undefined) local.enabled = enabled;
  if (exceptions !== undefined) local.exceptions = exceptions;
  const severity = typeof fields.severity === 'string' ? fields.severity : 'medium';
  const ruleFields: Record<string, unknown> = {
    type: 'eql',
    language: 'eql',
    severity,
    risk_score: RISK_BY_SEVERITY[severity] ?? 47,
    description: '',
    rule_id: id ?? fields.rule_id ?? `eqlwatch-${path.basename(file).replace(/\.[^.]+$/, '')}`,
    ...fields,
  };
  if (typeof ruleFields.index === 'string') ruleFields.index = [ruleFields.index];
  return finish(file, text, format, ruleFields, local, locate, [], [], false);
}

function finish(
  file: string,
  text: string,
  format: Rule['source']['format'],
  ruleTable: Record<string, unknown>,
  localTable: Record<string, unknown>,
  locate: (key: string[]) => { line: number; column: number },
  rulePrefix: string[],
  localPrefix: string[],
  localNotTable: boolean,
): LoadOutcome {
  const errors: RuleError[] = [];
  const at = (key: (string | number | symbol)[], message: string, hint?: string): RuleError => {
    const keyPath = key.map(String);
    const pos = locate(keyPath);
    return new RuleError(message, file, pos.line, pos.column, hint, lineAt(text, pos.line));
  };
  if (localNotTable) errors.push(at(localPrefix, '[eqlwatch] must be a table', 'use an [eqlwatch] section with enabled/exceptions/tags'));

  const type = ruleTable.type;
  const language = ruleTable.language;
  if (typeof type === 'string' && type !== 'eql') {
    return { kind: 'skipped', file, reason: `not an EQL rule (type "${type}"${typeof language === 'string' ? `, language "${language}"` : ''}): eqlwatch runs EQL rules only` };
  }
  if (typeof language === 'string' && language !== 'eql') {
    return { kind: 'skipped', file, reason: `not an EQL rule (language "${language}"): eqlwatch runs EQL rules only` };
  }

  const parsedRule = detectionRuleSchema.safeParse(ruleTable);
  const parsedLocal = localSettingsSchema.safeParse(localTable);
  if (!parsedRule.success) errors.push(...zodErrors(parsedRule.error, ruleTable, rulePrefix, at));
  if (!parsedLocal.success) errors.push(...zodErrors(parsedLocal.error, localTable, localPrefix, at));
  if (!parsedRule.success || !parsedLocal.success) return invalid(file, ...errors);

  const rule = toRule(parsedRule.data, parsedLocal.data, { file, format });
  // The query must compile exactly as the worker will compile it.
  try {
    compileQuery(rule.query, {
      eventCategoryField: rule.eventCategoryField,
      timestampField: rule.timestampField,
      tiebreakerField: rule.tiebreakerField,
    });
  } catch (err) {
    if (!(err instanceof EqlError)) throw err;
    errors.push(eqlErrorInFile(err, file, text, rule.query, () => locate([...rulePrefix, 'query'])));
  }
  rule.exceptions.forEach((exception, i) => {
    try {
      compileExpression(parseExpression(exception), { eventCategoryField: rule.eventCategoryField });
    } catch (err) {
      if (!(err instanceof EqlError)) throw err;
      errors.push(eqlErrorInFile(err, file, text, exception, () => locate([...localPrefix, 'exceptions', String(i)])));
    }
  });
  if (errors.length > 0) return invalid(file, ...errors);
  return { kind: 'rule', rule };
}

type ZodError = z.ZodError;

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

function zodErrors(
  error: ZodError,
  input: Record<string, unknown>,
  prefix: string[],
  at: (key: (string | number | symbol)[], message: string, hint?: string) => RuleError,
): RuleError[] {
  return error.issues.map((issue) => {
    const keyPath = [...prefix, ...issue.path.map(String)];
    const name = keyPath.join('.') || '(top level)';
    // zod 4 leaves `issue.input` out unless asked, so look the value up to tell "missing" from "wrong type".
    const missing = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined;
    let hint: string | undefined;
    if (missing) hint = `add ${issue.path.join('.')} = …`;
    else if (issue.code === 'unrecognized_keys') hint = `remove ${issue.keys.join(', ')}; known keys are enabled, exceptions, tags`;
    else if (issue.code === 'invalid_value') hint = `one of: ${issue.values.map(String).join(', ')}`;
    hint ??= KEY_HINTS[String(issue.path.at(-1) ?? '')] ?? (issue.code === 'invalid_type' ? `expected ${issue.expected}` : undefined);
    // An unknown key is reported at the key itself, not at its table.
    const where = issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...keyPath, issue.keys[0]] : keyPath;
    return at(missing ? prefix : where, missing ? `missing required key ${name}` : `${name}: ${issue.message}`, hint);
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

/** Re-bases an EQL error inside a query string onto the rule file's line and column. */
function eqlErrorInFile(
  err: EqlError,
  file: string,
  text: string,
  query: string,
  fallback: () => { line: number; column: number },
): RuleError {
  // Search from the key that holds the text: an exception's text may also occur inside the query.
  const key = fallback();
  const keyOffset = text.split('\n').slice(0, key.line - 1).reduce((n, l) => n + l.length + 1, 0);
  const fromKey = text.indexOf(query, keyOffset);
  const start = fromKey >= 0 ? fromKey : text.indexOf(query);
  let line: number;
  let column: number;
  if (start >= 0) {
    const abs = positionOf(text, start + err.offset);
    line = abs.line;
    column = abs.column;
  } else {
    ({ line, column } = key);
  }
  const message = `EQL ${err.kind} error: ${err.message.split('\n')[0]}`;
  return new RuleError(message, file, line, column, err.hint ?? hintForEql(err), lineAt(text, line));
}

function hintForEql(err: EqlError): string | undefined {
  if (err.expected && err.expected.length > 0) return `expected ${err.expected.slice(0, 6).join(', ')}`;
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
