/**
 * `npx eqlwatch --help` works from the package (the `bin` entry runs the built CLI), and every command has
 * its own --help.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/shared.js';
import { ensureBuilt, runCli } from './run-cli.js';

const exec = promisify(execFile);
const COMMANDS = ['run', 'once', 'validate', 'replay', 'setup', 'notify-test'];

beforeAll(() => ensureBuilt());

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
