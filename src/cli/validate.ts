/** `eqlwatch validate`: rules and config, every problem with file:line:column and a hint. */
import { loadConfig, ConfigError } from '../config/load.js';
import { loadRules } from '../rules/load.js';

export async function validateCommand(opts: { config?: string; rules?: string; json: boolean }): Promise<number> {
  const out = process.stdout;
  let configError: ConfigError | null = null;
  let rulesDir = opts.rules;
  let configFile: string | null = null;
  try {
    const { config, file } = loadConfig(opts.config);
    configFile = file;
    rulesDir ??= config.rules.dir;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    configError = err;
    if (err.file !== '(environment)') configFile = err.file;
  }
  rulesDir ??= 'queries';
  let report;
  try {
    report = await loadRules(rulesDir);
  } catch (err) {
    process.stderr.write(`eqlwatch validate: cannot read rules at ${rulesDir}: ${(err as Error).message}\n` +
      'hint: pass --rules <dir|file> pointing at your rule files\n');
    return 1;
  }
  const problems = report.errors.length + (configError ? 1 : 0);
  if (opts.json) {
    out.write(`${JSON.stringify({
      config: { file: configFile, error: configError ? describe(configError) : null },
      rules: report.rules.map((r) => ({ id: r.id, name: r.name, file: r.source.file, enabled: r.enabled })),
      skipped: report.skipped,
      errors: report.errors.map(describe),
    })}\n`);
    return problems > 0 ? 1 : 0;
  }
  if (configError) out.write(`${configError.format()}\n\n`);
  for (const e of report.errors) out.write(`${e.format()}\n\n`);
  for (const s of report.skipped) out.write(`skipped ${s.file}: ${s.reason}\n`);
  const disabled = report.rules.filter((r) => !r.enabled).length;
  const invalidFiles = new Set(report.errors.map((e) => e.file)).size;
  out.write(
    `${report.rules.length} rule(s) valid${disabled ? ` (${disabled} disabled)` : ''}, ${report.skipped.length} skipped, ` +
      `${invalidFiles} invalid file(s) with ${report.errors.length} error(s)` +
      `${configFile ? `; config ${configFile} ${configError ? 'INVALID' : 'valid'}` : configError ? '; config INVALID' : '; no config file (defaults)'}\n`,
  );
  return problems > 0 ? 1 : 0;
}

function describe(e: ConfigError | import('../rules/errors.js').RuleError) {
  return { file: e.file, line: e.line, column: e.column, message: e.message, hint: e.hint ?? null };
}
