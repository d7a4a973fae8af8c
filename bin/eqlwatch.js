#!/usr/bin/env node
// Entry point of the `eqlwatch` command: runs the compiled CLI (built by `npm ci`/`npm install` via "prepare").
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('eqlwatch: dist/ is missing; run "npm run build" (npm ci runs it for you).\n');
  process.exit(2);
}
const { main } = await import(cli.href);
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`eqlwatch: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
