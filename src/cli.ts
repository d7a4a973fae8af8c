/**
 * `eqlwatch` command line: run | once | rescan | validate | replay | setup | notify-test.
 * Exit codes (the README's table): 0 success, 1 the command ran and found problems (invalid rules, failed
 * runs, an unreachable cluster), 2 usage or config errors (bad options or arguments, an unusable config file).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface Command {
  summary: string;
  usage: string;
  /** Paragraphs printed after the summary, before the options. */
  description?: string;
  /** The command's own option lines (the common ones follow). */
  optionHelp?: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  run: (values: Record<string, unknown>, positionals: string[]) => Promise<number>;
}

const common = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMON_HELP = `  -c, --config <file>   config file (default: $EQLWATCH_CONFIG, else config/eqlwatch.yml if present)
  -h, --help            show this help`;

const commands: Record<string, Command> = {
  run: {
    summary: 'run the worker: every enabled rule on its schedule, until SIGTERM/SIGINT',
    usage: 'eqlwatch run [--config <file>] [--rules <dir|file>]',
    description: `Serves /healthz and /metrics on http.host:http.port (default 127.0.0.1:9464).
Several workers may share one cluster: rules are split through leases in the state index.
At start, each rule is checked against the cluster (index patterns matching nothing, needed fields
unmapped): warnings go to the log and to /metrics.`,
    optionHelp: `  -r, --rules <path>    rule directory or file (default: rules.dir from the config, "queries")`,
    options: { ...common, rules: { type: 'string', short: 'r' } },
    run: async (v) => (await import('./worker/commands.js')).runCommand({ config: v.config as string | undefined, rules: v.rules as string | undefined }),
  },
  once: {
    summary: 'run every enabled rule once over its pending window(s), then exit (for cron and CI)',
    usage: 'eqlwatch once [--config <file>] [--rules <dir|file>] [--rule <rule_id>]',
    description: 'Each rule is first checked against the cluster, as "run" does; warnings go to the log.',
    optionHelp: `  -r, --rules <path>    rule directory or file
      --rule <rule_id>  run only this rule (repeatable)`,
    options: { ...common, rules: { type: 'string', short: 'r' }, rule: { type: 'string', multiple: true } },
    run: async (v) =>
      (await import('./worker/commands.js')).onceCommand({
        config: v.config as string | undefined,
        rules: v.rules as string | undefined,
        only: (v.rule as string[] | undefined) ?? [],
      }),
  },
  rescan: {
    summary: 'evaluate one rule afresh over a past time range and write the alerts it finds (recovery)',
    usage: 'eqlwatch rescan --rule <rule_id> --from <iso> --to <iso> [--config <file>] [--rules <dir|file>]',
    description: `For documents the worker reported as not evaluated (searchable later than worker.auditHorizon, or
a gap after downtime beyond worker.maxCatchup). Alerts keep their deterministic ids: what was alerted
before is not written twice. The rule's checkpoint and state are left as they are.`,
    optionHelp: `      --rule <rule_id>  the rule (required)
      --from <iso>      start of the range on the rule's read field (event.ingested for Elastic's rules)
      --to <iso>        end of the range (exclusive)
  -r, --rules <path>    rule directory or file`,
    options: { ...common, rules: { type: 'string', short: 'r' }, rule: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
    run: async (v) =>
      (await import('./worker/commands.js')).rescanCommand({
        config: v.config as string | undefined,
        rules: v.rules as string | undefined,
        rule: v.rule as string | undefined,
        from: v.from as string | undefined,
        to: v.to as string | undefined,
      }),
  },
  validate: {
    summary: 'check rules and config; non-zero exit on any error',
    usage: 'eqlwatch validate [--rules <dir|file>] [--config <file>] [--json] [--verbose] [--es [--strict]]',
    description: `Exit 2 when the config is unusable, 1 when a rule is invalid (or, with --es, the cluster cannot be
reached; with --strict, a cluster check warned), else 0.`,
    optionHelp: `  -r, --rules <path>    rule directory or file (default: rules.dir from the config, "queries")
      --json            print a JSON report instead of text
      --verbose         also list the detection-rules keys that were accepted but are not used
      --es              check each enabled rule against the cluster: index patterns that match no
                        index, fields the query needs that no matching index maps
      --strict          with --es, exit 1 when a cluster check warns`,
    options: { ...common, rules: { type: 'string', short: 'r' }, json: { type: 'boolean' }, verbose: { type: 'boolean' }, es: { type: 'boolean' }, strict: { type: 'boolean' } },
    run: async (v) =>
      (await import('./cli/validate.js')).validateCommand({
        config: v.config as string | undefined,
        rules: v.rules as string | undefined,
        json: Boolean(v.json),
        verbose: Boolean(v.verbose),
        es: Boolean(v.es),
        strict: Boolean(v.strict),
      }),
  },
  replay: {
    summary: 'evaluate rules over exported events (NDJSON) with no Elasticsearch; prints alert documents',
    usage: 'eqlwatch replay --rules <dir|file> <events.ndjson|-> [--rule <rule_id>] [--mapping <file> | --es]',
    description: `Each input line is an event: either a search hit {"_index","_id","_source"} (as exported from
Elasticsearch; alert ids then equal those the worker writes) or a bare _source document.
Output: one alert document per line, {"_id": …, "_index": …, "_source": …}. Progress goes to stderr.
Use "-" to read events from stdin.`,
    optionHelp: `  -r, --rules <path>    rule directory or file (required)
      --rule <rule_id>  only this rule (repeatable)
      --mapping <file>  the indices' mappings (GET <index>/_mapping output), so values and join keys are
                        coerced as Elasticsearch indexes them, exactly as the worker does
      --es              read those mappings from the cluster (--config / ES_URL) instead
      --space <id>      Kibana space for alert ids (default "default")
      --now <iso>       alert build time (default: now), for reproducible output`,
    allowPositionals: true,
    options: {
      ...common,
      rules: { type: 'string', short: 'r' },
      rule: { type: 'string', multiple: true },
      space: { type: 'string' },
      now: { type: 'string' },
      mapping: { type: 'string' },
      es: { type: 'boolean' },
    },
    run: async (v, p) =>
      (await import('./cli/replay.js')).replayCommand({
        rules: v.rules as string | undefined,
        only: (v.rule as string[] | undefined) ?? [],
        spaceId: (v.space as string | undefined) ?? 'default',
        now: v.now as string | undefined,
        config: v.config as string | undefined,
        ...(v.mapping ? { mapping: v.mapping as string } : {}),
        ...(v.es ? { es: true } : {}),
        input: p,
      }),
  },
  setup: {
    summary: 'create the alerts index template and index, the state index, and the Kibana data view',
    usage: 'eqlwatch setup [--config <file>]',
    description: `Idempotent. The Kibana data view and saved search are created through Kibana's API when
kibana.url (or KIBANA_URL) is configured.`,
    options: { ...common },
    run: async (v) => (await import('./worker/commands.js')).setupCommand({ config: v.config as string | undefined }),
  },
  'notify-test': {
    summary: 'send a clearly marked sample notification through one channel',
    usage: 'eqlwatch notify-test --channel <name> [--config <file>]',
    optionHelp: `      --channel <name>  a channel defined under notify.channels`,
    options: { ...common, channel: { type: 'string' } },
    run: async (v) =>
      (await import('./worker/commands.js')).notifyTestCommand({
        config: v.config as string | undefined,
        channel: v.channel as string | undefined,
      }),
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return `eqlwatch ${VERSION}: Elastic Security EQL detection rules, outside Kibana

Usage: eqlwatch <command> [options]

Commands:
${Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "eqlwatch <command> --help" for a command's options.
Configuration: config/eqlwatch.yml or --config, overridden by ES_URL, ES_API_KEY, ES_USERNAME/ES_PASSWORD,
KIBANA_URL, EQLWATCH_* environment variables (see README "Configuration").
`;
}

function commandHelp(cmd: Command): string {
  const description = cmd.description ? `\n${cmd.description}\n` : '';
  const options = cmd.optionHelp ? `${cmd.optionHelp}\n${COMMON_HELP}` : COMMON_HELP;
  return `Usage: ${cmd.usage}\n\n${cmd.summary}\n${description}\nOptions:\n${options}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`eqlwatch: unknown command "${name}"\n\n${mainHelp()}`);
    return 2;
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: cmd.allowPositionals ?? false, strict: true });
  } catch (err) {
    process.stderr.write(`eqlwatch ${name}: ${(err as Error).message}\nUsage: ${cmd.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(commandHelp(cmd));
    return 0;
  }
  return cmd.run(parsed.values, parsed.positionals);
}
