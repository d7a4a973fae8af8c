/**
 * A long-running `eqlwatch` subprocess (`run`) that tests can watch and stop: its stdout is parsed as JSON log
 * lines as they arrive, `waitForLog` resolves on the first record matching a predicate (bounded), and
 * `stop(signal)` sends a signal and resolves with the exit status (SIGKILL after a bound, so no test leaks a
 * process). Built on test/cli/run-cli.ts (`ensureBuilt` + `BIN`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from '../cli/run-cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

export type LogRecord = Record<string, unknown>;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Every complete stdout line so far (raw). */
  readonly lines: string[];
  /** Parsed JSON log records so far (lines that are not JSON are kept in `lines` only). */
  readonly logs: LogRecord[];
  stdout(): string;
  stderr(): string;
  /** First log record (already seen or future) matching `pred`; rejects after `timeoutMs` or on exit. */
  waitForLog(pred: (r: LogRecord) => boolean, timeoutMs: number, what?: string): Promise<LogRecord>;
  /** Sends `signal` and waits for the process to exit; SIGKILLs it after `graceMs`. */
  stop(signal: NodeJS.Signals, graceMs?: number): Promise<Exit & { killedAfterGrace: boolean }>;
  readonly exited: Promise<Exit>;
}

const live = new Set<ChildProcess>();
/** Safety net for a failing test: no worker outlives the test process. */
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** `nodeArgs`: options for node itself, before the script (e.g. `--import` of a probe, bench/soak.ts). */
export function startWorker(args: string[], env: Record<string, string | undefined> = {}, nodeArgs: string[] = []): WorkerProcess {
  const fullEnv: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [k, v] of Object.entries(fullEnv)) if (v === undefined) delete fullEnv[k];
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { cwd: REPO_ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const lines: string[] = [];
  const logs: LogRecord[] = [];
  let out = '';
  let err = '';
  let partial = '';
  const waiters = new Set<{ pred: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      let rec: LogRecord | null = null;
      try {
        const v = JSON.parse(line) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) rec = v as LogRecord;
      } catch {
        rec = null;
      }
      if (rec === null) continue;
      logs.push(rec);
      for (const w of [...waiters]) {
        if (w.pred(rec)) {
          waiters.delete(w);
          w.resolve(rec);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });

  const waitForLog = (pred: (r: LogRecord) => boolean, timeoutMs: number, what = 'a log line'): Promise<LogRecord> => {
    const seen = logs.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (r: LogRecord) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const fail = (why: string) => {
        waiters.delete(w);
        clearTimeout(timer);
        reject(new Error(`${why} waiting for ${what}\n--- stdout (tail)\n${out.slice(-4000)}\n--- stderr\n${err.slice(-2000)}`));
      };
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      waiters.add(w);
      void exited.then((e) => {
        if (waiters.has(w)) fail(`process exited (${e.code ?? e.signal})`);
      });
    });
  };

  const stop = async (signal: NodeJS.Signals, graceMs = 20_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    let killedAfterGrace = false;
    const timer = setTimeout(() => {
      killedAfterGrace = true;
      child.kill('SIGKILL');
    }, graceMs);
    const e = await exited;
    clearTimeout(timer);
    return { ...e, killedAfterGrace };
  };

  return { child, lines, logs, stdout: () => out, stderr: () => err, waitForLog, stop, exited };
}

/** A per-window progress record of the worker (rule, window, events read, alerts). */
export const isProgress = (r: LogRecord): boolean =>
  typeof r.window === 'object' && r.window !== null && typeof r['rule.id'] === 'string';

/** The ops server URL the worker logs at start-up (`http.port: 0` picks a free port). */
export async function opsUrl(w: WorkerProcess, timeoutMs = 30_000): Promise<string> {
  const r = await w.waitForLog((l) => typeof l.url === 'string' && String(l.message).includes('/healthz'), timeoutMs, 'the ops server URL');
  return r.url as string;
}
