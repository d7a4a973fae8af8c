/** What `npm pack` would publish: the compiled worker, its entry point, rules and config; no tests or sources. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, run } from './tools.js';

const built = existsSync(path.join(repoRoot, 'dist/cli.js'));
if (!built) console.warn('[packaging] npm pack check needs dist/: run "npm run build" (npm ci does it)');

describe('npm pack --dry-run', () => {
  it('lists the files of the package', { timeout: 120_000 }, () => {
    // --ignore-scripts: `prepare` would rebuild dist/; the check is about what gets packed.
    const r = run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], 120_000);
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);

    expect(built, 'dist/ is missing: run "npm run build" first').toBe(true);
    for (const f of ['package.json', 'bin/eqlwatch.js', 'dist/cli.js', 'dist/scenario/load-cli.js', 'config/docker.yml']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('queries/') && f.endsWith('.toml')).length).toBeGreaterThanOrEqual(2);

    const unwanted = files.filter((f) =>
      /^(test|src|scripts|bench|node_modules|demo-output|test-results|\.ci)\//.test(f) || /\.test\.(ts|js)$/.test(f) || /(^|\/)\.env$/.test(f));
    expect(unwanted).toEqual([]);
  });
});
