/**
 * `npx eqlwatch --help` works from the package (the `bin` entry runs the built CLI), and every command has
 * its own --help.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/shared.js';
import { ensureBuilt, runCli } from './run-cli.js';

const exec = promisify(execFile);
const COMMANDS = ['run', 'once', 'validate', 'replay', 'setup', 'notify-test'];

beforeAll(() => {
  ensureBuilt();
  // npx runs the package's own bin, which needs the package's dist/ (npm ci builds it through "prepare").
  if (!existsSync(path.join(REPO_ROOT, 'dist/cli.js'))) {
    spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, timeout: 4 * 60_000 });
  }
});

describe('eqlwatch --help', () => {
  it('npx --no-install eqlwatch --help prints the commands', async () => {
    const { stdout } = await exec('npx', ['--no-install', 'eqlwatch', '--help'], { cwd: REPO_ROOT, timeout: 60_000 });
    expect(stdout).toMatch(/^eqlwatch \d+\.\d+\.\d+: /);
    expect(stdout).toContain('Usage: eqlwatch <command> [options]');
    for (const c of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
  });

  it.each(COMMANDS)('eqlwatch %s --help', async (c) => {
    const run = await runCli([c, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: eqlwatch ${c}\\b`));
    expect(run.stdout).toContain('-c, --config <file>');
    expect(run.stdout).toContain('-h, --help');
  });

  it.each(COMMANDS)('eqlwatch %s --help: summary and description above "Options:", only option lines below it', async (c) => {
    const { stdout } = await runCli([c, '--help']);
    const [head, options] = stdout.split('\nOptions:\n') as [string, string];
    expect(options).toBeDefined();
    // An option line starts with its flags; a wrapped option description is indented past the flags.
    for (const line of options.trimEnd().split('\n')) expect(line, `${c}: ${line}`).toMatch(/^(  (-\w, )?--\w|      --\w| {20,}\S)/);
    if (['run', 'replay', 'setup'].includes(c)) expect(head.split('\n').length, head).toBeGreaterThan(4);
  });

  it('validate\'s usage line shows every option it takes', async () => {
    const { stdout } = await runCli(['validate', '--help']);
    const usage = stdout.split('\n')[0]!;
    for (const flag of ['--rules', '--config', '--json', '--verbose', '--es', '--strict']) expect(usage).toContain(flag);
  });

  it('no command prints the help and exits 2; an unknown command or option exits 2 with a message', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('Usage: eqlwatch <command>');
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const badOption = await runCli(['validate', '--nope']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/Usage: eqlwatch validate/);
  });

  it('--version prints the package version', async () => {
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
