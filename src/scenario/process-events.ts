/**
 * Elastic Defend for Containers (`cloud_defend`) process documents, shaped as the integration
 * writes them to `logs-cloud_defend.process-<namespace>`: ECS `process.*` with parent, session,
 * group and entry leaders, `container.*`, `orchestrator.*`, `host.*`, `event.*` (category and
 * type are arrays), plus `event.ingested` set by the integration's ingest pipeline.
 */
import { deepFreeze } from './freeze.js';
import type { ClusterNode, Pod, ProgramSpec } from './cluster.js';
import type { Prng } from './prng.js';
import { iso, type ScenarioDoc, type Timeline } from './timeline.js';

export type EntryMetaType = 'container' | 'sshd' | 'init';

/** Where a process runs: inside a pod's container, or on the node itself (no container fields). */
export type ProcessPlace = { kind: 'container'; pod: Pod } | { kind: 'host'; node: ClusterNode };

export interface UserRef {
  id: string;
  name: string;
}

export const ROOT: UserRef = deepFreeze({ id: '0', name: 'root' });
export const APP_USER: UserRef = deepFreeze({ id: '1000', name: 'app' });

export interface Proc {
  entityId: string;
  pid: number;
  program: ProgramSpec;
  place: ProcessPlace;
  startMs: number;
  interactive: boolean;
  workingDirectory: string;
  user: UserRef;
  /** tty minor number for interactive processes (pts/N). */
  tty: number | null;
  parent: Proc | null;
  sessionLeader: Proc;
  groupLeader: Proc;
  entryLeader: Proc;
  entryMetaType: EntryMetaType;
  /** Lazily built frozen views of this process as seen from other documents. */
  views: Partial<Record<'parent' | 'leaderSame' | 'leaderOther' | 'entrySame' | 'entryOther', Readonly<Record<string, unknown>>>>;
}

const DATA_STREAM = deepFreeze({ type: 'logs', dataset: 'cloud_defend.process', namespace: 'default' });
const ECS = deepFreeze({ version: '8.11.0' });
const CATEGORY = deepFreeze(['process']);
const TYPE_START = deepFreeze(['start']);
const TYPE_END = deepFreeze(['end']);

export const PROCESS_INDEX = 'logs-cloud_defend.process-default';

function commandLine(args: readonly string[]): string {
  return args.join(' ');
}

function baseView(p: Proc): Record<string, unknown> {
  const view: Record<string, unknown> = {
    entity_id: p.entityId,
    pid: p.pid,
    name: p.program.name,
    executable: p.program.executable,
    args: p.program.args,
    args_count: p.program.args.length,
    interactive: p.interactive,
    start: iso(p.startMs),
    working_directory: p.workingDirectory,
    user: p.user,
    group: p.user,
  };
  if (p.tty !== null) view['tty'] = { char_device: { major: 136, minor: p.tty } };
  return view;
}

function view(p: Proc, kind: keyof Proc['views']): Readonly<Record<string, unknown>> {
  const cached = p.views[kind];
  if (cached) return cached;
  const v = baseView(p);
  switch (kind) {
    case 'parent':
      v['command_line'] = commandLine(p.program.args);
      break;
    case 'leaderSame':
    case 'leaderOther':
      v['same_as_process'] = kind === 'leaderSame';
      break;
    case 'entrySame':
    case 'entryOther':
      v['same_as_process'] = kind === 'entrySame';
      v['entry_meta'] = p.entryMetaType === 'sshd'
        ? { type: 'sshd', source: { ip: '10.0.0.5' } }
        : { type: p.entryMetaType };
      break;
  }
  const frozen = deepFreeze(v);
  p.views[kind] = frozen;
  return frozen;
}

/** Emits fork/exec/end documents for processes and keeps pid/entity bookkeeping consistent. */
export class ProcessEmitter {
  private nextPid = 4000;

  constructor(
    private readonly prng: Prng,
    private readonly timeline: Timeline,
    /** Shared, frozen `cloud_defend` object (policy id/revision, selectors, hook points). */
    private readonly cloudDefend: Readonly<Record<string, unknown>>,
  ) {}

  private newProc(
    program: ProgramSpec,
    place: ProcessPlace,
    startMs: number,
    opts: { interactive: boolean; user: UserRef; workingDirectory: string; tty: number | null },
    parent: Proc | null,
  ): Proc {
    const pid = this.nextPid;
    this.nextPid = this.nextPid >= 4_000_000 ? 4000 : this.nextPid + this.prng.int(1, 9);
    const proc = {
      entityId: this.prng.hex(24),
      pid,
      program,
      place,
      startMs,
      interactive: opts.interactive,
      workingDirectory: opts.workingDirectory,
      user: opts.user,
      tty: opts.tty,
      parent,
      views: {},
    } as Proc;
    return proc;
  }

  private doc(timeMs: number, action: 'fork' | 'exec' | 'end', proc: Proc, shownAs: ProgramSpec): ScenarioDoc {
    const p: Record<string, unknown> = {
      entity_id: proc.entityId,
      pid: proc.pid,
      name: shownAs.name,
      executable: shownAs.executable,
      args: shownAs.args,
      args_count: shownAs.args.length,
      command_line: commandLine(shownAs.args),
      working_directory: proc.workingDirectory,
      interactive: proc.interactive,
      start: iso(proc.startMs),
      user: proc.user,
      group: proc.user,
      session_leader: view(proc.sessionLeader, proc.sessionLeader === proc ? 'leaderSame' : 'leaderOther'),
      group_leader: view(proc.groupLeader, proc.groupLeader === proc ? 'leaderSame' : 'leaderOther'),
      entry_leader: view(proc.entryLeader, proc.entryLeader === proc ? 'entrySame' : 'entryOther'),
    };
    if (proc.parent) p['parent'] = view(proc.parent, 'parent');
    if (proc.tty !== null) p['tty'] = { char_device: { major: 136, minor: proc.tty } };
    if (action === 'end') {
      p['end'] = iso(timeMs);
      p['exit_code'] = 0;
    }
    const place = proc.place;
    const node = place.kind === 'container' ? place.pod.node : place.node;
    const doc: ScenarioDoc = {
      '@timestamp': iso(timeMs),
      agent: node.agent,
      cloud_defend: this.cloudDefend,
      data_stream: DATA_STREAM,
      ecs: ECS,
      event: {
        id: this.prng.hex(20),
        kind: 'event',
        category: CATEGORY,
        type: action === 'end' ? TYPE_END : TYPE_START,
        action,
        dataset: 'cloud_defend.process',
        module: 'cloud_defend',
        ingested: iso(timeMs + this.prng.int(400, 4000)),
      },
      host: node.host,
      process: p,
    };
    if (place.kind === 'container') {
      doc['container'] = place.pod.container;
      doc['orchestrator'] = place.pod.orchestrator;
    }
    return this.timeline.add(timeMs, doc);
  }

  /** A long-running session leader that started before the scenario (no document is written for it). */
  existingLeader(program: ProgramSpec, place: ProcessPlace, startMs: number, entryMetaType: EntryMetaType, user: UserRef = ROOT): Proc {
    const proc = this.newProc(program, place, startMs, { interactive: false, user, workingDirectory: '/', tty: null }, null);
    proc.sessionLeader = proc;
    proc.groupLeader = proc;
    proc.entryLeader = proc;
    proc.entryMetaType = entryMetaType;
    return proc;
  }

  /** A process that starts a session: a container's init, a `kubectl exec` target, an ssh login shell. */
  startLeader(
    program: ProgramSpec,
    place: ProcessPlace,
    timeMs: number,
    opts: { interactive: boolean; user?: UserRef; workingDirectory?: string; entryMetaType: EntryMetaType },
  ): { proc: Proc; exec: ScenarioDoc } {
    const tty = opts.interactive ? this.prng.int(0, 7) : null;
    const proc = this.newProc(program, place, timeMs, {
      interactive: opts.interactive,
      user: opts.user ?? ROOT,
      workingDirectory: opts.workingDirectory ?? '/',
      tty,
    }, null);
    proc.sessionLeader = proc;
    proc.groupLeader = proc;
    proc.entryLeader = proc;
    proc.entryMetaType = opts.entryMetaType;
    return { proc, exec: this.doc(timeMs, 'exec', proc, program) };
  }

  /**
   * `parent` forks and the child execs `program`. An interactive shell puts each command in its own
   * process group (job control); otherwise the child stays in the parent's group.
   */
  spawn(
    parent: Proc,
    program: ProgramSpec,
    timeMs: number,
    opts: { user?: UserRef; newSession?: boolean } = {},
  ): { proc: Proc; fork: ScenarioDoc; exec: ScenarioDoc; execMs: number } {
    const proc = this.newProc(program, parent.place, timeMs, {
      interactive: parent.interactive,
      user: opts.user ?? parent.user,
      workingDirectory: parent.workingDirectory,
      tty: parent.tty,
    }, parent);
    proc.sessionLeader = opts.newSession ? proc : parent.sessionLeader;
    proc.groupLeader = parent.interactive || opts.newSession ? proc : parent.groupLeader;
    proc.entryLeader = parent.entryLeader;
    proc.entryMetaType = parent.entryMetaType;
    const fork = this.doc(timeMs, 'fork', proc, parent.program);
    const execMs = timeMs + this.prng.int(0, 3);
    const exec = this.doc(execMs, 'exec', proc, program);
    return { proc, fork, exec, execMs };
  }

  end(proc: Proc, timeMs: number): ScenarioDoc {
    return this.doc(timeMs, 'end', proc, proc.program);
  }
}

export function program(executable: string, args: readonly string[], name?: string): ProgramSpec {
  const base = executable.slice(executable.lastIndexOf('/') + 1);
  return deepFreeze({ name: name ?? base, executable, args: [...args] });
}
