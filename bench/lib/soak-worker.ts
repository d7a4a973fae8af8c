/**
 * The worker under test in the soak benchmark: `eqlwatch run` as a child process (test/ops/worker-process.ts),
 * with the process probe preloaded (bench/lib/process-probe.mjs), started again after each stop; each process's
 * output is appended to one log file when it ends, and its log lines are tallied by level.
 */
import { appendFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { opsUrl, startWorker, type WorkerProcess } from '../../test/ops/worker-process.js';

const PROBE = fileURLToPath(new URL('./process-probe.mjs', import.meta.url));

export class SoakWorker {
  private current: WorkerProcess | null = null;
  private readonly ended: WorkerProcess[] = [];
  /** The ops server of the running process, once it has logged it. */
  opsUrl: string | null = null;

  constructor(private readonly configFile: string, private readonly probeFile: string, private readonly logFile: string) {}

  start(): void {
    this.opsUrl = null;
    const w = startWorker(
      ['run', '--config', this.configFile],
      { EQLWATCH_PROBE_FILE: this.probeFile, EQLWATCH_PROBE_MS: '5000', ES_URL: undefined, ES_CLOUD_ID: undefined },
      ['--import', PROBE],
    );
    this.current = w;
    opsUrl(w, 120_000).then((url) => (this.opsUrl = url), () => undefined);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 60_000): Promise<{ code: number | null; signal: string | null; killed: boolean }> {
    const w = this.current;
    if (!w) return { code: null, signal: null, killed: false };
    this.current = null;
    const e = await w.stop('SIGTERM', graceMs);
    this.ended.push(w);
    await appendFile(this.logFile, `${w.stdout()}${w.stderr()}`);
    return { code: e.code, signal: e.signal, killed: e.killedAfterGrace };
  }

  /** Log lines by level, and warnings and errors grouped by message shape (numbers, ids and times vary). */
  tally(): { levels: Record<string, number>; problems: Record<string, number> } {
    const levels: Record<string, number> = {};
    const problems: Record<string, number> = {};
    for (const r of this.ended.flatMap((w) => w.logs)) {
      const level = String(r['log.level']);
      levels[level] = (levels[level] ?? 0) + 1;
      if (level !== 'warn' && level !== 'error' && level !== 'fatal') continue;
      const shape = String(r.message).replace(/\d[\d:.TZ-]*/g, '#').slice(0, 160);
      problems[shape] = (problems[shape] ?? 0) + 1;
    }
    return { levels, problems };
  }
}
