// Preloaded into a process under measurement (`node --import ./bench/lib/process-probe.mjs …`): every
// EQLWATCH_PROBE_MS (default 5000) ms it appends one JSON line to EQLWATCH_PROBE_FILE with the process's memory
// and the event-loop delay measured since the previous line. Plain JavaScript so that it needs no loader in the
// measured process; it touches nothing of the program it measures, and its timer never keeps that process alive.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const file = process.env.EQLWATCH_PROBE_FILE;
if (file) {
  const every = Number(process.env.EQLWATCH_PROBE_MS ?? 5000);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let elu = performance.eventLoopUtilization();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    const now = performance.eventLoopUtilization();
    const used = performance.eventLoopUtilization(now, elu);
    elu = now;
    const line = {
      t: Date.now(),
      pid: process.pid,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      lagP50Ms: ms(delay.percentile(50)),
      lagP99Ms: ms(delay.percentile(99)),
      lagMaxMs: ms(delay.max),
      elu: Math.round(used.utilization * 1000) / 1000,
    };
    delay.reset();
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }, every);
  timer.unref();
}
