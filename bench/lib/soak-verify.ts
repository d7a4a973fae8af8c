/**
 * The soak benchmark's ground truth: every document the feed indexed, exported as search hits and given to
 * `eqlwatch replay` (with the indices' mappings read from the node, `--es`, as the worker reads them). Each alert
 * replay gives must have been written exactly once, nothing else written, and each notifiable alert (a single
 * event or a sequence's shell, not a building block) mailed, any repeat carrying the same notification id.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Client } from '@elastic/elasticsearch';
import { BIN } from '../../test/cli/run-cli.js';
import { REPO_ROOT } from '../../test/helpers/shared.js';
import type { ReceivedMail } from '../../test/notify/helpers.js';
import type { Outcome } from './soak-report.js';

export interface CheckInput {
  client: Client;
  eventIndices: string[];
  alertsIndex: string;
  rulesDir: string;
  /** The node itself (not the fault proxy), for replay's mappings. */
  esUrl: string;
  /** Scratch directory for the exported documents. */
  dir: string;
  mails: ReceivedMail[];
}

export async function checkAgainstReplay(i: CheckInput): Promise<{ exported: number; alerts: Outcome['alerts']; notifications: Outcome['notifications'] }> {
  const eventsFile = path.join(i.dir, 'events.ndjson');
  const out = createWriteStream(eventsFile);
  let exported = 0;
  for await (const h of allHits(i.client, i.eventIndices)) {
    if (!out.write(`${JSON.stringify(h)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    exported++;
  }
  await new Promise<void>((r) => out.end(() => r()));
  const replayed = await replay(i.rulesDir, eventsFile, i.esUrl);
  const expected = new Set(replayed.map((a) => a.id));
  const written = new Map<string, number>();
  for await (const h of allHits(i.client, [i.alertsIndex])) written.set(h._id, (written.get(h._id) ?? 0) + 1);
  const mailCount = new Map<string, number>();
  const notificationIds = new Map<string, Set<string>>();
  for (const m of i.mails) {
    const alert = String(m.parsed.headers.get('x-eqlwatch-alert-id') ?? '');
    mailCount.set(alert, (mailCount.get(alert) ?? 0) + 1);
    notificationIds.set(alert, (notificationIds.get(alert) ?? new Set()).add(String(m.parsed.headers.get('x-eqlwatch-notification-id'))));
  }
  const notifiable = replayed.filter((a) => !a.buildingBlock).map((a) => a.id);
  return {
    exported,
    alerts: {
      expected: replayed.length,
      written: written.size,
      missing: replayed.filter((a) => !written.has(a.id)).map((a) => a.id),
      unexpected: [...written.keys()].filter((id) => !expected.has(id)),
      duplicated: [...written.entries()].filter(([, n]) => n > 1).map(([id]) => id),
    },
    notifications: {
      expected: notifiable.length,
      mails: i.mails.length,
      missing: notifiable.filter((id) => !mailCount.has(id)),
      duplicates: [...mailCount.values()].reduce((n, c) => n + Math.max(0, c - 1), 0),
      duplicatesWithDifferentIds: [...notificationIds.values()].filter((ids) => ids.size > 1).length,
    },
  };
}

/** The alert ids (and whether each is a building block) `eqlwatch replay` gives over the exported hits. */
async function replay(rulesDir: string, eventsFile: string, esUrl: string): Promise<{ id: string; buildingBlock: boolean }[]> {
  const child = spawn(process.execPath, [BIN, 'replay', '--rules', rulesDir, '--es', eventsFile], {
    cwd: REPO_ROOT,
    env: { ...process.env, ES_URL: esUrl, ES_CLOUD_ID: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const alerts: { id: string; buildingBlock: boolean }[] = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  for await (const line of createInterface({ input: child.stdout! })) {
    if (!line.startsWith('{')) continue;
    const a = JSON.parse(line) as { _id: string; _source: Record<string, unknown> };
    alerts.push({ id: a._id, buildingBlock: a._source['kibana.alert.building_block_type'] !== undefined });
  }
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`eqlwatch replay exited ${code}: ${err.slice(-2000)}`);
  return alerts;
}

/** Every document of `indices` as search hits `{_index, _id, _source}` (what `eqlwatch replay` reads), in pages. */
export async function* allHits(client: Client, indices: string[], pageSize = 5_000): AsyncGenerator<{ _index: string; _id: string; _source: unknown }> {
  await client.indices.refresh({ index: indices });
  const pit = await client.openPointInTime({ index: indices, keep_alive: '2m' });
  try {
    let after: (string | number)[] | undefined;
    for (;;) {
      const res = await client.search({ pit: { id: pit.id, keep_alive: '2m' }, size: pageSize, sort: ['_shard_doc'], ...(after ? { search_after: after } : {}) });
      if (res.hits.hits.length === 0) return;
      for (const h of res.hits.hits) yield { _index: h._index, _id: h._id!, _source: h._source };
      after = res.hits.hits.at(-1)!.sort as (string | number)[];
    }
  } finally {
    await client.closePointInTime({ id: pit.id }).catch(() => undefined);
  }
}
