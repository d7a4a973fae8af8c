/**
 * Loads the worker config from a YAML file and the environment, validating with zod. Errors carry the file,
 * line and column of the offending key and a hint; secret values never appear in them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { lineAt, RuleError } from '../rules/errors.js';
import { ZodError } from 'zod';
import { esConfigFromEnv, esConfigSchema } from './es.js';
import { configSchema, type Config } from './schema.js';

/**
 * A config problem: same shape as a rule problem (file, line, column, hint). A config with several problems
 * throws the first one carrying all of them in `problems` (itself included), so each is reported.
 */
export class ConfigError extends RuleError {
  override name = 'ConfigError';
  problems: ConfigError[] = [this];

  static all(problems: ConfigError[]): ConfigError {
    const first = problems[0]!;
    first.problems = problems;
    return first;
  }

  /** Every problem, each with its position, excerpt and hint, separated by blank lines. */
  override format(): string {
    return this.problems.map((p) => RuleError.prototype.format.call(p)).join('\n\n');
  }
}

export const DEFAULT_CONFIG_FILES = ['config/eqlwatch.yml', 'config/eqlwatch.yaml'];

type Env = Record<string, string | undefined>;

/**
 * `file` undefined: use EQLWATCH_CONFIG, else the first default file that exists, else defaults only.
 * Environment variables (ES_*, KIBANA_URL, EQLWATCH_RULES_DIR, EQLWATCH_LOG_LEVEL, EQLWATCH_HTTP_PORT,
 * EQLWATCH_HTTP_HOST, EQLWATCH_ALERTS_INDEX, EQLWATCH_WORKER_ID) override the file.
 */
export function loadConfig(file?: string, env: Env = process.env): { config: Config; file: string | null } {
  const path = file ?? env.EQLWATCH_CONFIG ?? DEFAULT_CONFIG_FILES.find((f) => existsSync(f)) ?? null;
  let raw: Record<string, unknown> = {};
  let text = '';
  let locate = (_keys: (string | number)[], _unknownKey?: string): { line: number; column: number } => ({ line: 1, column: 1 });
  if (path !== null) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file: ${(err as Error).message}`, path, 1, 1,
        'pass --config <file>, set EQLWATCH_CONFIG, or remove the option to use defaults');
    }
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const e = doc.errors[0];
    if (e) {
      // linePos is only filled with prettyErrors; the offset is always there.
      const at = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      throw new ConfigError(`invalid YAML: ${e.message.split('\n')[0]}`, path, at.line, at.col,
        'check indentation (spaces, not tabs) and quoting', safeExcerpt(lineAt(text, at.line)));
    }
    const js = doc.toJS() as unknown;
    if (js !== null && js !== undefined) {
      if (!isMap(doc.contents)) throw new ConfigError('the config file must be a YAML mapping', path, 1, 1, 'see config/eqlwatch.example.yml');
      raw = dropNulls(js) as Record<string, unknown>;
    }
    locate = (keys, unknownKey) => {
      if (unknownKey !== undefined) {
        // An unknown key: point at the key itself, not at the section holding it.
        const parent = keys.length === 0 ? doc.contents : doc.getIn(keys, true);
        const pair = isMap(parent) ? parent.items.find((it) => isScalar(it.key) && String(it.key.value) === unknownKey) : undefined;
        const range = isScalar(pair?.key) ? pair.key.range : undefined;
        if (range) {
          const p = lineCounter.linePos(range[0]);
          return { line: p.line, column: p.col };
        }
      }
      for (let n = keys.length; n > 0; n--) {
        const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
        if (node?.range) {
          const p = lineCounter.linePos(node.range[0]);
          return { line: p.line, column: p.col };
        }
      }
      return { line: 1, column: 1 };
    };
  }
  const merged = overlayEnv(raw, env);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const where = path ?? '(environment)';
    // One problem per issue, and per key for unknown keys, in file order.
    const problems = parsed.error.issues.flatMap((issue) => {
      const key = issue.path.join('.') || '(top level)';
      const one = (unknownKey?: string): ConfigError => {
        const pos = locate(issue.path as (string | number)[], unknownKey);
        const message = unknownKey !== undefined ? `${key}: Unrecognized key: "${unknownKey}"` : `${key}: ${issue.message}`;
        return new ConfigError(message, where, pos.line, pos.column, hintFor(issue.code, unknownKey ?? key),
          path ? safeExcerpt(lineAt(text, pos.line)) : undefined);
      };
      return issue.code === 'unrecognized_keys' ? issue.keys.map(one) : [one()];
    });
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    throw ConfigError.all(problems);
  }
  return { config: parsed.data, file: path };
}

/**
 * The config line shown under an error, with secrets masked: values of secret-looking keys (password, apiKey,
 * token, secret, webhook URLs, header values) and the user-info of any URL. Errors are printed and logged.
 */
export function safeExcerpt(line: string): string {
  const masked = line.replace(/(\/\/)[^/\s@]*@/g, '$1<redacted>@');
  const m = /^(\s*(?:-\s+)?["']?[A-Za-z0-9_-]*(?:password|pass|apikey|api_key|secret|token|webhookurl|authorization|url|user)["']?\s*:\s*)(\S.*)$/i.exec(masked);
  if (m && !/^(\{|\[)?\s*(env|file)\s*:/.test(m[2]!)) return `${m[1]}<redacted>`;
  return masked;
}

/** A section whose keys are all commented out parses as null: treat it (and any null value) as absent. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

/** Keys of earlier versions, with what replaced them. */
const REPLACED_KEYS: Record<string, string> = {
  reorderSlack: 'worker.reorderSlack was replaced by worker.lateness (the lateness tolerance, default 1m): remove it',
};

function hintFor(code: string, key: string): string {
  if (code === 'unrecognized_keys' && REPLACED_KEYS[key]) return REPLACED_KEYS[key];
  if (code === 'unrecognized_keys') return 'remove the unknown key or check its spelling against config/eqlwatch.example.yml';
  if (key.startsWith('elasticsearch')) return 'or set ES_URL / ES_API_KEY / ES_USERNAME+ES_PASSWORD in the environment';
  return 'see the configuration reference in README.md';
}

function overlayEnv(raw: Record<string, unknown>, env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  const section = (k: string): Record<string, unknown> => ({ ...((out[k] as Record<string, unknown> | undefined) ?? {}) });
  const es = section('elasticsearch');
  if (env.ES_URL || env.ES_CLOUD_ID || env.ES_API_KEY || env.ES_API_KEY_FILE || env.ES_USERNAME || env.ES_PASSWORD ||
      env.ES_PASSWORD_FILE || env.ES_CA_FILE || env.ES_CA_FINGERPRINT || env.ES_TLS_REJECT_UNAUTHORIZED ||
      env.ES_REQUEST_TIMEOUT || env.ES_MAX_RETRIES) {
    if (!es.node && !es.nodes && !es.cloud && !env.ES_URL && !env.ES_CLOUD_ID) es.node = 'http://127.0.0.1:9200';
    try {
      out.elasticsearch = esConfigFromEnv(env, es);
    } catch (err) {
      if (!(err instanceof ZodError)) throw err;
      // A bad file section is reported below at its line and column; otherwise the environment is at fault.
      const fileOnly = es.node || es.nodes || es.cloud ? es : { ...es, node: 'http://127.0.0.1:9200' };
      if (!esConfigSchema.safeParse(fileOnly).success) return out;
      const issue = err.issues[0];
      throw new ConfigError(`elasticsearch (from the environment): ${issue ? `${issue.path.join('.') || 'section'}: ${issue.message}` : 'invalid'}`,
        '(environment)', 1, 1, 'check ES_URL / ES_CLOUD_ID, ES_API_KEY, ES_USERNAME+ES_PASSWORD, ES_CA_*, ES_REQUEST_TIMEOUT and ES_MAX_RETRIES');
    }
  }
  const set = (sectionName: string, key: string, value: unknown): void => {
    if (value === undefined || value === '') return;
    out[sectionName] = { ...section(sectionName), [key]: value };
  };
  set('kibana', 'url', env.KIBANA_URL);
  if (env.KIBANA_PASSWORD) set('kibana', 'password', { env: 'KIBANA_PASSWORD' });
  set('kibana', 'username', env.KIBANA_USERNAME);
  if (env.KIBANA_API_KEY) set('kibana', 'apiKey', { env: 'KIBANA_API_KEY' });
  set('rules', 'dir', env.EQLWATCH_RULES_DIR);
  set('logging', 'level', env.EQLWATCH_LOG_LEVEL ?? env.LOG_LEVEL);
  set('alerts', 'index', env.EQLWATCH_ALERTS_INDEX);
  set('worker', 'id', env.EQLWATCH_WORKER_ID);
  if (env.EQLWATCH_HTTP_PORT) set('http', 'port', Number(env.EQLWATCH_HTTP_PORT));
  set('http', 'host', env.EQLWATCH_HTTP_HOST);
  return out;
}
