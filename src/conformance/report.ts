/** Text and JSON reports of a conformance run. Pure: returns strings. */
import type { CorpusResult } from './corpus.js';
import type { SuiteResult } from './runner.js';

export interface SummaryJson {
  suites: Record<string, { passed: number; failed: number; skipped: number }>;
  corpus: { parsed: number; failed: number };
}

export function summaryJson(suites: readonly SuiteResult[], corpus: CorpusResult | undefined): SummaryJson {
  const out: SummaryJson = { suites: {}, corpus: { parsed: corpus?.parsed ?? 0, failed: corpus?.failed ?? 0 } };
  for (const s of suites) out.suites[s.file] = { passed: s.passed, failed: s.failed, skipped: s.skipped };
  return out;
}

function firstLine(query: string): string {
  const line = query.split('\n').find((l) => l.trim() !== '') ?? '';
  const lines = query.split('\n').filter((l) => l.trim() !== '').length;
  return line.trim() + (lines > 1 ? ' …' : '');
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

export function formatSuite(s: SuiteResult, verbose: boolean): string {
  const ignored = s.commentedOut > 0 ? ` (+${s.commentedOut} commented out in the file, not run by Elasticsearch either)` : '';
  const lines: string[] = [`${s.file}: passed ${s.passed} / failed ${s.failed} / skipped ${s.skipped}${ignored}`];
  const skipped = new Map<string, string[]>();
  for (const r of s.results) {
    if (r.outcome.status !== 'skipped') continue;
    const names = skipped.get(r.outcome.reason) ?? [];
    names.push(r.spec.name);
    skipped.set(r.outcome.reason, names);
  }
  for (const [reason, names] of skipped) lines.push(`  skipped ${names.length}: ${reason} (${names.join(', ')})`);
  for (const r of s.results) {
    const o = r.outcome;
    if (o.status === 'failed') {
      lines.push(`  FAIL ${r.spec.name} [${o.kind}] ${firstLine(r.spec.query)}`);
      lines.push(`       ${o.message}`);
      if (verbose) lines.push(indent(r.spec.query, '       | '));
    } else if (o.status === 'passed' && verbose) {
      lines.push(`  ok   ${r.spec.name}`);
    }
  }
  return lines.join('\n');
}

export function formatCorpus(c: CorpusResult, verbose: boolean, limit = 20): string {
  const lines = [`corpus: parsed+compiled ${c.parsed} / failed ${c.failed}`];
  const shown = verbose ? c.failures : c.failures.slice(0, limit);
  for (const f of shown) lines.push(`  FAIL ${f.path ?? f.name}: ${f.message}`);
  if (shown.length < c.failures.length) lines.push(`  … ${c.failures.length - shown.length} more (--verbose lists all)`);
  return lines.join('\n');
}
