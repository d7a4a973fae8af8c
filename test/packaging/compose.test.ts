/**
 * docker-compose.yml: validated by `docker compose config` (or Debian's `docker-compose config`) when a Compose
 * CLI exists (skipped with a note otherwise, failing in CI: nothing here imitates Compose), plus checks of what Compose cannot know — that the
 * files and variables the stack refers to exist in this repository.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { dockerCompose, inCi, repoRoot, run } from './tools.js';

interface Service {
  build?: unknown;
  image?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const composeText = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, Service> };
const envExample = readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
const compiledFromSource = (p: string) => path.join(repoRoot, p.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'));

const composeTool = dockerCompose();
if (!composeTool.ok) console.warn(`[packaging] docker compose config skipped: ${composeTool.reason}`);

describe('docker compose config', () => {
  it.runIf(!composeTool.ok && inCi)('has a Compose CLI in CI (.ci/run installs one)', () => {
    expect(composeTool.ok, composeTool.ok ? '' : composeTool.reason).toBe(true);
  });

  it.skipIf(!composeTool.ok)('accepts docker-compose.yml with the variables of .env.example', () => {
    if (!composeTool.ok) return;
    const r = run(composeTool.cmd, [...composeTool.args, '-f', 'docker-compose.yml', '--env-file', '.env.example', 'config', '--quiet'], 60_000);
    expect(r.stderr.replace(/^.*(DeprecationWarning|CryptographyDeprecationWarning).*\n(.*\n)?/gm, '')).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!composeTool.ok)('rejects a broken compose file (the check can fail)', () => {
    if (!composeTool.ok) return;
    const r = run('sh', ['-c', `printf 'services:\\n  x:\\n    image: [1, 2\\n' > /tmp/eqlwatch-bad-compose.yml && ${[composeTool.cmd, ...composeTool.args].join(' ')} -f /tmp/eqlwatch-bad-compose.yml config --quiet`], 60_000);
    expect(r.status).not.toBe(0);
  });
});

describe('docker-compose.yml refers to things that exist', () => {
  it("gives Kibana what its detection rules need (the promotion rule): an encryption key from .env", () => {
    const kibana = compose.services.kibana!.environment ?? [];
    expect(kibana.some((kv) => /^XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY=\$\{KIBANA_ENCRYPTION_KEY:\?/.test(kv))).toBe(true);
    const key = /^KIBANA_ENCRYPTION_KEY=(.*)$/m.exec(envExample)?.[1] ?? '';
    expect(key.length).toBeGreaterThanOrEqual(32);
  });

  it('runs compiled entry points whose sources exist', () => {
    const entries = Object.values(compose.services).flatMap((s) => (s.entrypoint ?? []).filter((a) => a.startsWith('dist/')));
    expect(entries).toContain('dist/scenario/load-cli.js');
    for (const e of entries) expect(existsSync(compiledFromSource(e)), e).toBe(true);
  });

  it('points the worker at config files that the image contains', () => {
    for (const s of Object.values(compose.services)) {
      for (const kv of s.environment ?? []) {
        const m = /^EQLWATCH_CONFIG=\/app\/(.+)$/.exec(kv);
        if (m) expect(existsSync(path.join(repoRoot, m[1]!)), kv).toBe(true);
      }
    }
  });

  it('gives each eqlwatch service a config that loads with the environment Compose passes', () => {
    const vars = Object.fromEntries(envExample.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const withConfig = Object.entries(compose.services).filter(([, s]) => (s.environment ?? []).some((kv) => kv.startsWith('EQLWATCH_CONFIG=')));
    expect(withConfig.map(([n]) => n).sort()).toEqual(['eqlwatch', 'eqlwatch-setup']);
    for (const [name, s] of withConfig) {
      const env: Record<string, string> = {};
      for (const kv of s.environment ?? []) {
        const value = kv.slice(kv.indexOf('=') + 1).replace(/\$\{([A-Z_]+)[^}]*\}/g, (_, v: string) => vars[v] ?? '');
        env[kv.slice(0, kv.indexOf('='))] = value.replace(/^\/app\//, `${repoRoot}/`);
      }
      const { config } = loadConfig(undefined, env);
      expect(config.elasticsearch.auth, name).toBeDefined();
      expect(Object.keys(config.notify.channels), name).toContain('mail');
      if (name === 'eqlwatch-setup') expect(config.kibana.url).toBe('http://kibana:5601');
      // Promotion wired up: setup installs the Kibana rule, the worker writes the documents it promotes.
      expect(config.alerts.promotion.enabled, name).toBe(true);
    }
  });

  it('defines in .env.example every variable the file requires', () => {
    const required = [...composeText.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    for (const v of required) expect(envExample).toMatch(new RegExp(`^${v}=.+`, 'm'));
  });

  it('publishes ports on loopback only', () => {
    for (const [name, s] of Object.entries(compose.services)) for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/);
  });

  it('starts the worker after setup and the scenario load, and runs setup once Kibana is healthy', () => {
    expect(compose.services.eqlwatch?.depends_on?.['eqlwatch-setup']?.condition).toBe('service_completed_successfully');
    expect(compose.services.eqlwatch?.depends_on?.['scenario-loader']?.condition).toBe('service_completed_successfully');
    expect(compose.services['eqlwatch-setup']?.depends_on?.kibana?.condition).toBe('service_healthy');
    expect(compose.services['eqlwatch-setup']?.command).toEqual(['setup']);
  });

  it('keeps shell metacharacters in health-check URLs quoted', () => {
    // An unquoted "&" in a CMD-SHELL check backgrounds curl and makes the check pass unconditionally.
    for (const m of composeText.matchAll(/CMD-SHELL", "([^\n]*)"\]/g)) {
      const unquoted = m[1]!.replace(/'[^']*'/g, '').replace(/\\"[^"]*\\"/g, '');
      expect(unquoted, m[1]).not.toMatch(/[^&]&[^&]/);
    }
  });
});
