/**
 * `npm run conformance` outside this project's machines: --root points at Elasticsearch's QA suites where a
 * clone of elastic/elasticsearch keeps them, --corpus at a detection-rules checkout; a missing root says how to
 * get one.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corpusFromTomlTree } from '../../src/conformance/corpus.js';
import { HAS_SHARED, noteSharedMissing, REPO_ROOT, SHARED_DIR } from '../helpers/shared.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'eqlwatch-conformance-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function conformance(args: string[]) {
  return spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/conformance.ts', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
}

noteSharedMissing('conformance --root');

describe('npm run conformance', () => {
  it('a missing suites root exits 2 and names the upstream directory', () => {
    const run = conformance(['--root', path.join(tmp, 'nowhere'), '--skip-corpus']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('hint: clone github.com/elastic/elasticsearch and pass --root <clone>/x-pack/plugin/eql/qa/common/src/main/resources');
  });

  it.skipIf(!HAS_SHARED)('--root reads the suites from any directory laid out like the upstream one; --corpus reads a rules tree', () => {
    // The same relative layout as <elasticsearch>/x-pack/plugin/eql/qa/common/src/main/resources.
    const root = path.join(tmp, 'x-pack/plugin/eql/qa/common/src/main/resources');
    cpSync(path.join(SHARED_DIR, 'conformance/es-eql'), root, { recursive: true });
    const rules = path.join(tmp, 'detection-rules/rules');
    cpSync(path.join(SHARED_DIR, 'corpus/detection-rules-toml'), rules, { recursive: true });
    const run = conformance(['--root', root, '--suite', 'test_sample_multi.toml', '--corpus', path.dirname(rules), '--json']);
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { suites: Record<string, { passed: number; failed: number }>; corpus: { parsed: number; failed: number } };
    expect(summary.suites['test_sample_multi.toml']).toMatchObject({ passed: 9, failed: 0 });
    expect(summary.corpus).toMatchObject({ parsed: 52, failed: 0 });
  });

  it.skipIf(!HAS_SHARED)('corpusFromTomlTree keeps the EQL rules only, named by relative path', async () => {
    const rules = await corpusFromTomlTree(path.join(SHARED_DIR, 'corpus/detection-rules-toml'));
    expect(rules).toHaveLength(52);
    expect(rules.some((r) => r.path === 'container_workload_protection.toml')).toBe(false);
    expect(rules.every((r) => r.path !== undefined && !path.isAbsolute(r.path) && r.query.length > 0)).toBe(true);
  });
});
