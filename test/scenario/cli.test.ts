import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('scripts/scenario.ts', () => {
  let dir = '';
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('writes the combined NDJSON, one file per data stream and the ground truth', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-scenario-'));
    const out = path.join(dir, 'run.ndjson');
    await run(process.execPath, ['--import', 'tsx', 'scripts/scenario.ts', '--events', '3000', '--attacks', '4', '--seed', '9', '--out', out], { cwd: repoRoot, timeout: 60_000 });
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(3000);
    const proc = (await readFile(path.join(dir, 'run.logs-cloud_defend.process-default.ndjson'), 'utf8')).trimEnd().split('\n');
    const audit = (await readFile(path.join(dir, 'run.logs-kubernetes.audit_logs-default.ndjson'), 'utf8')).trimEnd().split('\n');
    expect(proc.length + audit.length).toBe(3000);
    for (const l of proc) expect(JSON.parse(l).data_stream.dataset).toBe('cloud_defend.process');
    for (const l of audit) expect(JSON.parse(l).data_stream.dataset).toBe('kubernetes.audit_logs');
    const truth = JSON.parse(await readFile(path.join(dir, 'run.truth.json'), 'utf8'));
    expect(truth.attacks).toHaveLength(4);
    expect(truth.expectedAlertCounts.interactive_exec).toBe(4);
    for (const alert of truth.expectedAlerts) {
      for (const ref of alert.events) {
        const doc = JSON.parse(lines[ref.line] as string);
        expect(doc['@timestamp']).toBe(ref.timestamp);
        const id = doc.event.id ?? `${doc.kubernetes.audit.auditID}/${doc.kubernetes.audit.stage}`;
        expect(id).toBe(ref.id);
      }
    }
  });

  it('fails with a usage message on a bad argument', async () => {
    await expect(run(process.execPath, ['--import', 'tsx', 'scripts/scenario.ts', '--events', 'many', '--out', '/tmp/never.ndjson'], { cwd: repoRoot, timeout: 60_000 }))
      .rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--events') });
  });
});
