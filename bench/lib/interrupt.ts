/**
 * How the long benchmarks (fleet, soak) stop: Ctrl-C or SIGTERM aborts their signal, so they stop early and
 * still remove the indices and processes they created; main's result is the exit code, and a failure exits 2.
 */

/** An abort controller that SIGINT and SIGTERM abort (once each). */
export function interruptOnSignals(): AbortController {
  const interrupted = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => interrupted.abort(new Error(`${sig}: stopped early; indices and processes removed`)));
  return interrupted;
}

/**
 * Sets the exit code from `run`. A failure prints its message (only the message when interrupted) and exits at
 * once: fault, restart and sampling schedules may still hold timers that nothing needs any more.
 */
export function exitWith(run: Promise<number>, interrupted: AbortController): void {
  run.then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      console.error(interrupted.signal.aborted ? e.message : (e.stack ?? e));
      process.exit(2);
    },
  );
}
