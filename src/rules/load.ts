/**
 * Loads rules from files: Elastic detection-rules TOML as shipped, a short YAML form, and `.eql` files with
 * `// key: value` metadata. Every problem becomes a RuleError with file, line, column and a hint; a bad file
 * never prevents the others from loading.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { compileQuery, compileExpression } from '../eql/compile.js';
import { EqlError } from '../eql/errors.js';
import { parseExpression } from '../eql/parser.js';
import { lineAt, positionOf, RuleError } from './errors.js';
import { DETECTION_RULES_LANGUAGES, DETECTION_RULES_RULE_KEYS, DETECTION_RULES_TYPES, didYouMean, TOML_TABLES, unknownKeys } from './known-keys.js';
import { eqlErrorInFile, unknownKeyError, zodErrors, type FileContext } from './rule-errors.js';
import { detectionRuleSchema, localSettingsSchema, toRule, type Rule } from './schema.js';
import { locateTomlKey } from './toml-position.js';
import { locateYamlKey, yamlValueOffset } from './yaml-position.js';

export const RULE_EXTENSIONS = ['.toml', '.yaml', '.yml', '.eql'] as const;

export type LoadOutcome =
  /** `unusedKeys`: detection-rules keys present in the file that eqlwatch accepts and does not read. */
  | { kind: 'rule'; rule: Rule; unusedKeys: string[] }
  | { kind: 'skipped'; file: string; reason: string }
  | { kind: 'invalid'; file: string; errors: RuleError[] };

export interface LoadReport {
  rules: Rule[];
  skipped: { file: string; reason: string }[];
  errors: RuleError[];
  /** Files looked at, in load order. */
  files: string[];
  /** Each detection-rules key eqlwatch accepted without using it, with the files that hold it. */
  unusedKeys: Map<string, string[]>;
}

/** Loads every rule file under `target` (a directory, searched recursively, or one file). */
export async function loadRules(target: string): Promise<LoadReport> {
  const files = await listRuleFiles(target);
  const report: LoadReport = { rules: [], skipped: [], errors: [], files, unusedKeys: new Map() };
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
      for (const key of outcome.unusedKeys) report.unusedKeys.set(key, [...(report.unusedKeys.get(key) ?? []), file]);
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
  const locate = (key: string[]): { line: number; column: number } => locateTomlKey(text, key);
  const strayTables = Object.keys(doc).filter((k) => !TOML_TABLES.includes(k)).map((k) => {
    const pos = locate([k]);
    return new RuleError(`unknown top-level key ${k}`, file, pos.line, pos.column,
      didYouMean(k, TOML_TABLES) ?? `a rule file holds the tables ${TOML_TABLES.map((t) => `[${t}]`).join(', ')}`, lineAt(text, pos.line));
  });
  const ruleTable = doc.rule;
  if (!isPlainObject(ruleTable)) {
    return invalid(file, ...strayTables, new RuleError('missing [rule] table', file, 1, 1,
      'a detection-rules TOML file has a [rule] table with rule_id, name, type, query, severity and risk_score'));
  }
  return finish({ file, text, format: 'toml', locate, strayKeys: strayTables }, ruleTable, isPlainObject(doc.eqlwatch) ? doc.eqlwatch : {},
    ['rule'], ['eqlwatch'], doc.eqlwatch !== undefined && !isPlainObject(doc.eqlwatch));
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
  // Short-form keys live at the top level: `rule_id` may be written `id`, the local settings beside the rule's.
  const yamlPath = (keyPath: string[]): string[] => (keyPath[0] === 'rule_id' && raw.rule_id === undefined ? ['id', ...keyPath.slice(1)] : keyPath);
  const locate = (keyPath: string[]) => locateYamlKey(doc, lineCounter, yamlPath(keyPath));
  const locateValue = (keyPath: string[], offset: number) => {
    const at = yamlValueOffset(doc, text, yamlPath(keyPath), offset);
    return at === undefined ? undefined : positionOf(text, at);
  };
  return shortForm({ file, text, format: 'yaml', locate, locateValue }, raw);
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
    if (keyPath[0] === 'query') return { line: i + 1, column: 1 };
    const idx = meta.findIndex((l) => l.trimStart().startsWith(`${keyPath[0]}:`));
    return idx >= 0 ? { line: idx + 1, column: 4 } : { line: 1, column: 1 };
  };
  return shortForm({ file, text, format: 'eql', locate }, raw);
}

// ------------------------------------------------------------------------------------- shared checks

const RISK_BY_SEVERITY: Record<string, number> = { low: 21, medium: 47, high: 73, critical: 99 };

/** Short-form keys beside the rule's own: `id` for rule_id, and the [eqlwatch] settings. */
const SHORT_FORM_KEYS = ['id', 'enabled', 'exceptions'];

function shortForm(ctx: FileContext, raw: Record<string, unknown>): LoadOutcome {
  const { file } = ctx;
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
  return finish(ctx, ruleFields, local, [], [], false, SHORT_FORM_KEYS);
}

function finish(
  ctx: FileContext,
  ruleTable: Record<string, unknown>,
  localTable: Record<string, unknown>,
  rulePrefix: string[],
  localPrefix: string[],
  localNotTable: boolean,
  /** Keys allowed beside the rule's (the short forms' id and local settings). */
  besideRule: readonly string[] = [],
): LoadOutcome {
  const { file, text, format, locate } = ctx;
  const errors: RuleError[] = [...(ctx.strayKeys ?? [])];
  const at = (key: (string | number | symbol)[], message: string, hint?: string): RuleError => {
    const keyPath = key.map(String);
    const pos = locate(keyPath);
    return new RuleError(message, file, pos.line, pos.column, hint, lineAt(text, pos.line));
  };
  if (localNotTable) errors.push(at(localPrefix, '[eqlwatch] must be a table', 'use an [eqlwatch] section with enabled/exceptions/tags'));

  const type = ruleTable.type;
  const language = ruleTable.language;
  // A misspelt type or language is an error: skipping it would silently turn a detection off.
  const badType = typeof type === 'string' && !DETECTION_RULES_TYPES.includes(type);
  const badLanguage = typeof language === 'string' && !DETECTION_RULES_LANGUAGES.includes(language);
  if (badType) errors.push(at([...rulePrefix, 'type'], `unknown rule type "${type}"`, didYouMean(type, DETECTION_RULES_TYPES) ?? `detection-rules types are ${DETECTION_RULES_TYPES.join(', ')}; eqlwatch runs "eql"`));
  if (badLanguage) errors.push(at([...rulePrefix, 'language'], `unknown query language "${language}"`, didYouMean(language, DETECTION_RULES_LANGUAGES) ?? `detection-rules languages are ${DETECTION_RULES_LANGUAGES.join(', ')}; eqlwatch runs "eql"`));
  if (badType || badLanguage) return invalid(file, ...errors);
  const otherType = typeof type === 'string' && type !== 'eql';
  if (otherType || (typeof language === 'string' && language !== 'eql')) {
    // Not eqlwatch's to check further; a problem already found in the file (a stray table) is still reported.
    if (errors.length > 0) return invalid(file, ...errors);
    const what = otherType ? `type "${type}"${typeof language === 'string' ? `, language "${language}"` : ''}` : `language "${language}"`;
    return { kind: 'skipped', file, reason: `not an EQL rule (${what}): eqlwatch runs EQL rules only` };
  }

  // Unknown keys: a typo must not leave a detection running on defaults. Keys detection-rules defines and
  // eqlwatch does not read (setup, required_fields, …) are accepted and reported as unused.
  for (const u of unknownKeys(ruleTable, detectionRuleSchema, [...DETECTION_RULES_RULE_KEYS, ...besideRule])) {
    errors.push(unknownKeyError(at, [...rulePrefix, ...u.path], u.allowed, rulePrefix.length === 0 ? 'a rule key' : 'a [rule] key'));
  }
  for (const u of unknownKeys(localTable, localSettingsSchema)) {
    errors.push(unknownKeyError(at, [...localPrefix, ...u.path], u.allowed, localPrefix.length === 0 ? 'a rule key' : 'an [eqlwatch] key'));
  }
  const unusedKeys = Object.keys(ruleTable).filter((k) => !Object.hasOwn(detectionRuleSchema.shape, k) && DETECTION_RULES_RULE_KEYS.includes(k)).sort();

  const parsedRule = detectionRuleSchema.safeParse(ruleTable);
  const parsedLocal = localSettingsSchema.safeParse(localTable);
  if (!parsedRule.success) errors.push(...zodErrors(parsedRule.error, ruleTable, rulePrefix, at));
  if (!parsedLocal.success) errors.push(...zodErrors(parsedLocal.error, localTable, localPrefix, at));
  if (!parsedRule.success || !parsedLocal.success || errors.length > 0) return invalid(file, ...errors);

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
    errors.push(eqlErrorInFile(err, ctx, rule.query, [...rulePrefix, 'query']));
  }
  rule.exceptions.forEach((exception, i) => {
    try {
      compileExpression(parseExpression(exception), { eventCategoryField: rule.eventCategoryField });
    } catch (err) {
      if (!(err instanceof EqlError)) throw err;
      errors.push(eqlErrorInFile(err, ctx, exception, [...localPrefix, 'exceptions', String(i)]));
    }
  });
  if (errors.length > 0) return invalid(file, ...errors);
  return { kind: 'rule', rule, unusedKeys };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
