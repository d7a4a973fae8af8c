/** Runs the eqlwatch CLI from source (the demo's worker child process; `bin/eqlwatch.js` needs a build). */
import { main } from '../../src/cli.js';

process.exitCode = await main(process.argv.slice(2));
