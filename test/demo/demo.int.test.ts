/**
 * `npm run demo` end to end against the test node (ES_URL set, so the demo starts and stops nothing):
 * both seed rules fire, the table shows them, and the emails land as .eml and .html files.
 * Its own data stream namespace and output directory keep it apart from a person's demo.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_RULES } from '../../src/scenario/index.js';
import { scenarioTemplates } from '../../src/scenario/mappings.js';
import { esTestClient, esUrl } from '../helpers/es.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function runDemo(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/demo.ts'), ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 240_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('npm run demo', () => {
  const namespace = `eqlwatchdemotest${randomBytes(3).toString('hex')}`;
  const out = mkdtempSync(path.join(tmpdir(), 'eqlwatch-demo-test-'));
  let result: { code: number | null; out: string };

  beforeAll(async () => {
    result = await runDemo(['--events', '2000', '--namespace', namespace, '--out', out], { ...process.env, ES_URL: esUrl() });
  }, 300_000);

  afterAll(async () => {
    rmSync(out, { recursive: true, force: true });
    const client = esTestClient();
    for (const t of scenarioTemplates(namespace)) {
      await client.indices.delete({ index: t.index, ignore_unavailable: true }).catch(() => undefined);
      await client.indices.deleteIndexTemplate({ name: t.name }).catch(() => undefined);
    }
    await client.close();
  });

  it('finishes successfully and says so', () => {
    expect(result.out).toContain('done: both seed rules fired and the email landed.');
    expect(result.code, result.out).toBe(0);
  });

  it('shows an alert row for each seed rule in the table', () => {
    const table = result.out.slice(result.out.indexOf('TIME (UTC)'));
    for (const r of Object.values(SEED_RULES)) expect(table).toContain(r.name.slice(0, 20));
  });

  it('saves each email as .eml with an HTML rendering next to it', () => {
    const files = readdirSync(out);
    const eml = files.filter((f) => f.endsWith('.eml'));
    expect(eml.length).toBeGreaterThanOrEqual(2);
    for (const f of eml) {
      const html = f.replace(/\.eml$/, '.html');
      expect(files).toContain(html);
      expect(readFileSync(path.join(out, f), 'utf8')).toMatch(/^From: eqlwatch-demo@example\.com$/m);
      expect(readFileSync(path.join(out, html), 'utf8')).toContain('<html');
    }
  });

  it('used the given cluster without starting a node of its own', () => {
    expect(result.out).toContain('(nothing is started or stopped)');
    expect(result.out).not.toContain('starting a local Elasticsearch node');
  });
});
