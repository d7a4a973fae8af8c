/**
 * `eqlwatch validate`: rules and config, every problem with file:line:column and a hint; with `--es`, each
 * enabled rule checked against the cluster (index patterns matching nothing, needed fields unmapped).
 *
 * Exit codes (README "CLI"): 2 when the config (or the --rules path) is unusable, 1 when a rule is invalid,
 * the cluster cannot be reached for --es, or (with --strict) a cluster check warned; else 0.
 */
import { loadConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { describeEsConfig } from '../config/es.js';
import { closeEsClient, createEsClient } from '../es/client.js';
import type { RuleError } from '../rules/errors.js';
import { loadRules, type LoadReport } from '../rules/load.js';
import { preflightRules, type PreflightWarning } from '../worker/preflight.js';

export interface ValidateOptions {
  config?: string;
  rules?: string;
  json: boolean;
  verbose: boolean;
  es: boolean;
  strict: boolean;
}

export async function validateCommand(opts: ValidateOptions): Promise<number> {
  const out = (s: string) => process.stdout.write(s);
  let configError: ConfigError | null = null;
  let config: Config | null = null;
  let configFile: string | null = null;
  try {
    ({ config, file: configFile } = loadConfig(opts.config));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    configError = err;
    if (err.file !== '(environment)') configFile = err.file;
  }
  const configErrors = configError?.problems ?? [];
  const rulesDir = opts.rules ?? config?.rules.dir ?? 'queries';
  let report: LoadReport;
  try {
    report = await loadRules(rulesDir);
  } catch (err) {
    process.stderr.write(`eqlwatch validate: cannot read rules at ${rulesDir}: ${(err as Error).message}\n` +
      'hint: pass --rules <dir|file> pointing at your rule files\n');
    return 2;
  }

  // The cluster check needs a usable config; without one it is reported as not run.
  let cluster: { warnings: PreflightWarning[]; error: string | null } | null = null;
  if (opts.es && config) cluster = await checkCluster(config, report);

  const exitCode = configErrors.length > 0 ? 2
    : report.errors.length > 0 || cluster?.error ? 1
    : opts.strict && (cluster?.warnings.length ?? 0) > 0 ? 1
    : 0;

  const unused = [...report.unusedKeys].sort(([a], [b]) => a.localeCompare(b));
  if (opts.json) {
    out(`${JSON.stringify({
      config: { file: configFile, valid: configErrors.length === 0, errors: configErrors.map(describe) },
      rules: report.rules.map((r) => ({ id: r.id, name: r.name, file: r.source.file, enabled: r.enabled })),
      skipped: report.skipped,
      errors: report.errors.map(describe),
      unusedKeys: unused.map(([key, files]) => ({ key, files })),
      ...(opts.es ? { cluster: cluster ?? { warnings: [], error: 'not checked: the config is invalid' } } : {}),
      exitCode,
    })}\n`);
    return exitCode;
  }
  // Every problem of the config, each with its position, excerpt and hint.
  if (configError) out(`${configError.format()}\n\n`);
  for (const e of report.errors) out(`${e.format()}\n\n`);
  for (const s of report.skipped) out(`skipped ${s.file}: ${s.reason}\n`);
  if (opts.verbose && unused.length > 0) {
    out(`accepted without use (detection-rules keys eqlwatch does not read): ${unused.map(([k, files]) => `${k} (${files.length} file${files.length === 1 ? '' : 's'})`).join(', ')}\n`);
  }
  if (opts.es) {
    if (!config) out('cluster: not checked (the config is invalid)\n');
    else if (cluster?.error) out(`cluster: ${cluster.error}\n`);
    else {
      for (const w of cluster!.warnings) out(`warning: ${w.file}: ${w.message}\n`);
      out(`cluster: ${report.rules.filter((r) => r.enabled).length} enabled rule(s) checked, ${cluster!.warnings.length} warning(s)${opts.strict && cluster!.warnings.length > 0 ? ' (--strict: failing)' : ''}\n`);
    }
  }
  const disabled = report.rules.filter((r) => !r.enabled).length;
  const invalidFiles = new Set(report.errors.map((e) => e.file)).size;
  const configState = configFile
    ? `config ${configFile} ${configErrors.length > 0 ? `INVALID (${configErrors.length} problem(s))` : 'valid'}`
    : configErrors.length > 0 ? `config INVALID (${configErrors.length} problem(s))` : 'no config file (defaults)';
  out(
    `${report.rules.length} rule(s) valid${disabled ? ` (${disabled} disabled)` : ''}, ${report.skipped.length} skipped, ` +
      `${invalidFiles} invalid file(s) with ${report.errors.length} error(s); ${configState}\n`,
  );
  return exitCode;
}

async function checkCluster(config: Config, report: LoadReport): Promise<{ warnings: PreflightWarning[]; error: string | null }> {
  let client: Awaited<ReturnType<typeof createEsClient>>;
  try {
    client = await createEsClient(config.elasticsearch);
  } catch (e) {
    return { warnings: [], error: (e as Error).message };
  }
  const rules = report.rules.filter((r) => r.enabled);
  try {
    // No separate probe: the API key eqlwatch needs has no cluster privilege. When no rule could be checked
    // at all, the cluster is the problem, not the rules.
    const warnings = await preflightRules(client, rules);
    if (rules.length > 0 && warnings.length === rules.length && warnings.every((w) => w.problem === 'check_failed')) {
      return { warnings: [], error: `cannot reach Elasticsearch (${describeEsConfig(config.elasticsearch)}): ${warnings[0]!.cause}` };
    }
    return { warnings, error: null };
  } finally {
    await closeEsClient(client);
  }
}

function describe(e: ConfigError | RuleError) {
  return { file: e.file, line: e.line, column: e.column, message: e.message, hint: e.hint ?? null };
}
