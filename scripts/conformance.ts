/**
 * `npm run conformance [-- options]`: run the EQL engine against Elasticsearch's own QA suites and count how
 * many detection-rules queries it compiles. The suites live in Elasticsearch's repository under
 * x-pack/plugin/eql/qa/common/src/main/resources (point --root there); this project's machines keep a copy in
 * ../shared/conformance/es-eql, the default. Run with --help for options. Exit code 0 even with failures
 * unless --strict.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { corpusFromTomlTree, parseCorpus, runCorpus, type CorpusResult } from '../src/conformance/corpus.js';
import { loadEngine } from '../src/conformance/engine.js';
import { formatCorpus, formatSuite, summaryJson } from '../src/conformance/report.js';
import { DATE_NANOS_LABEL, runBuiltinSuites, runCustomSuite } from '../src/conformance/run-all.js';
import type { SuiteResult } from '../src/conformance/runner.js';
import { BUILTIN_SUITES, DEFAULT_SETTINGS, type DataTransform, type IndexSource, type SuiteSettings } from '../src/conformance/suites.js';

const UPSTREAM = 'x-pack/plugin/eql/qa/common/src/main/resources';

const HELP = `Usage: npm run conformance -- [options]

Built-in suites: Elasticsearch's EQL QA suites, from a clone of github.com/elastic/elasticsearch at
<clone>/${UPSTREAM} (--root), or the copy in ../shared/conformance/es-eql:
  (no options)                 run every suite and the detection-rules corpus
  --suite <name.toml>          run one built-in suite (by file name)
Any suite in the same TOML format:
  --suite <file.toml> --data <file> [--data <file> …] [--mapping <file> …]
                               data: .json array, .data (JSON with // comments) or .ndjson;
                               mappings pair with data files in order (one mapping applies to all)
  --category-field <f>         event category field        (default event.category)
  --timestamp-field <f>        timestamp field             (default @timestamp)
  --tiebreaker <f>             tiebreaker field            (default none)
  --id-field <f>               _source field of event ids  (default: the tiebreaker, else "id")
  --size <n>                   request size when a spec sets none (default 50, as ES's runner)
  --transform filetime         endgame data: FILETIME "timestamp" → "@timestamp" (epoch millis)
  --transform filetime-nanos   endgame-140-nanos: FILETIME digits read as epoch nanos
Common:
  --root <dir>                 suites root: <elasticsearch clone>/${UPSTREAM}
                               (default ../shared/conformance/es-eql)
  --corpus <file|dir>          detection-rules corpus: a detection-rules checkout (its EQL rule TOML files)
                               or a JSON list (default ../shared/corpus/detection-rules-eql.json)
  --skip-corpus                do not run the corpus check (JSON corpus counts are then 0)
  --date-nanos                 also run test_queries.toml on the date_nanos endgame variant
                               (as EqlDateNanosSpecTestCase), reported as "${DATE_NANOS_LABEL}"
  --keyword-type keyword|wildcard  type for [runtime_random_keyword_type] (default keyword)
  --no-max-samples             the engine ignores maxSamplesPerKey: skip specs that set max_samples_per_key > 1
  --filter <substring>         only specs whose name contains it
  --verbose                    list passing specs, full queries, all corpus failures
  --json                       print a JSON summary as the last line
  --strict                     exit non-zero when any spec or corpus query fails
`;

function main(): Promise<number> {
  return run(process.argv.slice(2));
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean' },
      json: { type: 'boolean' },
      suite: { type: 'string' },
      data: { type: 'string', multiple: true },
      mapping: { type: 'string', multiple: true },
      'category-field': { type: 'string' },
      'timestamp-field': { type: 'string' },
      tiebreaker: { type: 'string' },
      'id-field': { type: 'string' },
      size: { type: 'string' },
      transform: { type: 'string' },
      root: { type: 'string' },
      corpus: { type: 'string' },
      'skip-corpus': { type: 'boolean' },
      'date-nanos': { type: 'boolean' },
      'keyword-type': { type: 'string' },
      'no-max-samples': { type: 'boolean' },
      filter: { type: 'string' },
      verbose: { type: 'boolean' },
      strict: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }

  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const shared = path.resolve(repoRoot, '../shared');
  const root = path.resolve(values.root ?? path.join(shared, 'conformance/es-eql'));
  const verbose = values.verbose ?? false;
  const keywordType = values['keyword-type'] ?? 'keyword';
  if (keywordType !== 'keyword' && keywordType !== 'wildcard') throw new UsageError('--keyword-type must be keyword or wildcard');
  const transform = values.transform;
  if (transform !== undefined && transform !== 'filetime' && transform !== 'filetime-nanos') {
    throw new UsageError('--transform supports "filetime" and "filetime-nanos"');
  }
  const size = values.size === undefined ? DEFAULT_SETTINGS.defaultSize : Number(values.size);
  if (!Number.isInteger(size) || size < 0) throw new UsageError('--size must be a non-negative integer');

  const load = await loadEngine();
  if (!load.ok) {
    process.stderr.write(`conformance: the EQL engine is not available (${load.reason})\n`);
    return 2;
  }
  const engine = load.engine;
  const runOptions = {
    caps: { maxSamplesPerKey: !(values['no-max-samples'] ?? false) },
    dataset: { keywordType: keywordType as 'keyword' | 'wildcard' },
    ...(values.filter !== undefined ? { filter: values.filter } : {}),
  };

  let suites: SuiteResult[];
  const builtin = values.suite === undefined ? undefined : BUILTIN_SUITES.find((s) => s.file === path.basename(values.suite!));
  if (values.data && values.data.length > 0) {
    if (values.suite === undefined) throw new UsageError('--data needs --suite');
    const mappings = values.mapping ?? [];
    if (mappings.length > 1 && mappings.length !== values.data.length) {
      throw new UsageError('give one --mapping for all data files, or one per --data, in the same order');
    }
    const indices: IndexSource[] = values.data.map((data, i) => {
      const mapping = mappings.length === 1 ? mappings[0] : mappings[i];
      return {
        data: path.resolve(data),
        ...(mapping !== undefined ? { mapping: path.resolve(mapping) } : {}),
        ...(transform !== undefined ? { transform: transform as DataTransform } : {}),
      };
    });
    const tiebreaker = values.tiebreaker ?? null;
    const settings: SuiteSettings = {
      eventCategoryField: values['category-field'] ?? DEFAULT_SETTINGS.eventCategoryField,
      timestampField: values['timestamp-field'] ?? DEFAULT_SETTINGS.timestampField,
      tiebreakerField: tiebreaker,
      idField: values['id-field'] ?? tiebreaker ?? DEFAULT_SETTINGS.idField,
      defaultSize: size,
    };
    const result = runCustomSuite(engine, process.cwd(), { suite: path.resolve(values.suite), indices, settings }, runOptions);
    // Report the suite under the name it was given on the command line.
    suites = [{ ...result, file: values.suite }];
  } else if (values.suite !== undefined) {
    if (!builtin) throw new UsageError(`${values.suite} is not a built-in suite; give its --data (and --mapping)`);
    suites = runBuiltinSuites(engine, root, { ...runOptions, only: [builtin.file] });
  } else {
    if (!existsSync(root)) {
      process.stderr.write(`conformance: suites not found at ${root}\n` +
        `hint: clone github.com/elastic/elasticsearch and pass --root <clone>/${UPSTREAM}\n`);
      return 2;
    }
    suites = runBuiltinSuites(engine, root, { ...runOptions, dateNanos: values['date-nanos'] ?? false });
  }

  for (const s of suites) process.stdout.write(`${formatSuite(s, verbose)}\n\n`);

  let corpus: CorpusResult | undefined;
  const runCorpusCheck = !values['skip-corpus'];
  if (runCorpusCheck) {
    const corpusFile = path.resolve(values.corpus ?? path.join(shared, 'corpus/detection-rules-eql.json'));
    if (existsSync(corpusFile)) {
      const rules = statSync(corpusFile).isDirectory() ? await corpusFromTomlTree(corpusFile) : parseCorpus(readFileSync(corpusFile, 'utf8'));
      corpus = runCorpus(engine, rules);
      process.stdout.write(`${formatCorpus(corpus, verbose)}\n`);
    } else {
      process.stdout.write(`corpus: ${corpusFile} not found, skipped\n`);
    }
  }

  const total = suites.reduce((a, s) => ({ p: a.p + s.passed, f: a.f + s.failed, k: a.k + s.skipped }), { p: 0, f: 0, k: 0 });
  process.stdout.write(`\ntotal: passed ${total.p} / failed ${total.f} / skipped ${total.k}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(summaryJson(suites, corpus))}\n`);

  const anyFailure = total.f > 0 || (corpus?.failed ?? 0) > 0;
  return values.strict && anyFailure ? 1 : 0;
}

class UsageError extends Error {}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || (e instanceof Error && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`conformance: ${(e as Error).message}\n\n${HELP}`);
      process.exitCode = 64;
      return;
    }
    process.stderr.write(`conformance: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 2;
  },
);
