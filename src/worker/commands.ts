/**
 * The Elasticsearch-backed commands: `run` (the service), `once`, `setup` and `notify-test`.
 * Wires config, rules, the Elasticsearch client, state, alerts, notifications and operations together.
 */
import { hostname } from 'node:os';
import type { Client } from '@elastic/elasticsearch';
import { loadConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { closeEsClient, createEsClient, esErrorMessage, EsSecretError } from '../es/client.js';
import { EsTrustError, tlsHint } from '../es/tls-trust.js';
import { describeEsConfig } from '../config/es.js';
import { ensureAlertsIndex } from '../es/alerts-template.js';
import { ensurePromotionTarget, type PromotionTarget } from '../es/promotion-target.js';
import { EsStateStore } from '../es/state-store.js';
import { setupKibana } from '../kibana/setup.js';
import { buildChannels, deliverDue, deliverOptions, EsOutbox, Notifier, notifyTest, type DeliveryOutcome, type OutboxItem } from '../notify/index.js';
import type { NotifyConfig } from '../config/notify.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { Metrics } from '../ops/metrics.js';
import { startOpsServer } from '../ops/http.js';
import { loadRules } from '../rules/load.js';
import { notificationDocs } from '../alerts/notification-view.js';
import type { ExecuteDeps } from './execute.js';
import { IncompleteReadError } from '../es/snapshot.js';
import { AlertWriteError } from './alert-sink.js';
import { executeGroup } from './group-run.js';
import { formGroups, type RuleGroup } from './groups.js';
import { SchemaCache } from './rule-view.js';
import { checkRulesAgainstCluster } from './preflight.js';
import { prepareRule, type PreparedRule } from './prepared-rule.js';
import { rescanRule } from './rescan.js';
import { runMetrics } from './run-metrics.js';
import { Scheduler } from './scheduler.js';

interface Loaded {
  config: Config;
  logger: Logger;
  client: Client;
  rules: PreparedRule[];
  ruleErrors: number;
}

/** The config, or exit code 2 after printing the problem (file:line:column and hint). */
function configOrExitCode(file: string | undefined): Config | number {
  try {
    return loadConfig(file).config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.format()}\n`);
      return 2;
    }
    throw err;
  }
}

async function load(opts: { config?: string; rules?: string }): Promise<Loaded | number> {
  const config = configOrExitCode(opts.config);
  if (typeof config === 'number') return config;
  const logger = createLogger({ level: config.logging.level });
  const rulesDir = opts.rules ?? config.rules.dir;
  let report;
  try {
    report = await loadRules(rulesDir);
  } catch (err) {
    logger.fatal({ 'file.path': rulesDir, err: String(err) }, `cannot read rules at ${rulesDir}; pass --rules <dir|file> or set rules.dir`);
    return 2;
  }
  for (const e of report.errors) logger.error({ 'file.path': e.file, 'file.line': e.line, 'file.column': e.column, hint: e.hint }, `invalid rule: ${e.format()}`);
  for (const s of report.skipped) logger.warn({ 'file.path': s.file }, `skipped ${s.file}: ${s.reason}`);
  const rules = report.rules.filter((r) => r.enabled).map((r) => prepareRule(r));
  logger.info({ rules: rules.length, invalid: report.errors.length, skipped: report.skipped.length }, `loaded ${rules.length} enabled rule(s) from ${rulesDir}; connecting to Elasticsearch ${describeEsConfig(config.elasticsearch)}`);
  const client = await clientOrNull(config, logger);
  if (client === null) return 1;
  return { config, logger, client, rules, ruleErrors: report.errors.length };
}

/** The client, or null after logging why it cannot be made (a secret that cannot be read, a CA pin not honoured). */
async function clientOrNull(config: Config, logger?: Logger): Promise<Client | null> {
  try {
    return await createEsClient(config.elasticsearch);
  } catch (err) {
    if (!(err instanceof EsTrustError || err instanceof EsSecretError)) throw err;
    logger?.fatal({ 'error.message': err.message, 'error.type': err.name }, err.message);
    process.stderr.write(`eqlwatch: ${err.message}\n`);
    return null;
  }
}

function notifyConfig(config: Config): NotifyConfig {
  return {
    ...config.notify,
    kibana: {
      ...config.notify.kibana,
      ...(config.kibana.url ? { url: config.kibana.url } : {}),
      spaceId: config.notify.kibana.spaceId ?? config.alerts.spaceId,
    },
  };
}

/** Everything a run needs that outlives one rule execution. */
async function prepareServices(l: Loaded, metrics: Metrics) {
  const { config, client, logger } = l;
  const store = new EsStateStore(client, { index: config.state.index });
  const outbox = new EsOutbox(client, { index: config.notify.outbox.index });
  const [, , , promotion] = await Promise.all([
    ensureAlertsIndex(client, { alias: config.alerts.index }),
    store.ensureIndex(),
    outbox.ensureIndex(),
    ensurePromotion(client, config),
  ]);
  const nc = notifyConfig(config);
  const notifier = new Notifier(nc, outbox);
  const channels = buildChannels(nc);
  const notifications = metrics.counter('eqlwatch_notifications_total', 'Notification deliveries by outcome');
  const errors = metrics.counter('eqlwatch_errors_total', 'Errors by kind');
  const record = runMetrics(metrics);
  const latency = metrics.histogram(
    'eqlwatch_detection_latency_seconds',
    'From an event\'s arrival (event.ingested, else @timestamp) to its alert written, and to its notification sent',
    [0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60, 90, 120, 300, 600],
  );
  /** Arrival time of recent alerts' events, by alert id, for the notification latency. */
  const arrivals = new Map<string, number>();
  const deps: ExecuteDeps = {
    client,
    store,
    logger,
    workerId: config.worker.id ?? `${hostname()}-${process.pid}`,
    alertsIndex: config.alerts.index,
    spaceId: config.alerts.spaceId,
    kibanaUrl: config.kibana.url ?? null,
    promotion,
    settings: {
      ingestDelayMs: config.worker.ingestDelay,
      latenessMs: config.worker.lateness,
      auditHorizonMs: config.worker.auditHorizon,
      maxWindowMs: config.worker.maxWindow,
      maxCatchupMs: config.worker.maxCatchup,
      leaseTtlMs: config.worker.leaseTtl,
      pageSize: config.worker.pageSize,
      maxPendingSequences: config.worker.maxPendingSequences,
    },
    schemaCache: new SchemaCache(config.worker.mappingsRefresh),
    onCreated: (created, writtenAt) => {
      for (const c of created) {
        latency({ stage: 'alert_written' }, Math.max(0, (writtenAt - c.arrivedAt) / 1000));
        arrivals.set(c.alertId, c.arrivedAt);
      }
      // Bounded: only recent alerts are waited on for the notification latency.
      for (const k of arrivals.keys()) {
        if (arrivals.size <= 10_000) break;
        arrivals.delete(k);
      }
    },
    onAlerts: async (built) => {
      const report = await notifier.enqueueAlerts(notificationDocs(built));
      if (report.enqueued > 0) logger.debug({ ...report }, `queued ${report.enqueued} notification(s)`);
    },
    ...(process.env.EQLWATCH_TEST_CRASH_AFTER_ALERTS === '1'
      ? { afterAlertsWritten: () => process.kill(process.pid, 'SIGKILL') }
      : {}),
  };
  /**
   * Runs a group of rules (a lone rule is a group of one); false when any of its rules' runs failed. A group
   * that fails for a reason that is not the cluster's (transient reads and writes fail every rule alike) is
   * run again rule by rule, so one rule's problem never stops the others of its group.
   */
  const execute = async (group: RuleGroup, signal?: AbortSignal): Promise<boolean> => {
    const labelsOf = (p: PreparedRule) => ({ rule_id: p.rule.id, rule_name: p.rule.name });
    try {
      const results = await executeGroup({ ...deps, ...(signal ? { signal } : {}) }, group.rules);
      for (const p of group.rules) {
        const result = results.get(p.rule.id)!;
        if (result.status === 'skipped') {
          record.skipped(labelsOf(p));
          logger.info({ 'rule.id': p.rule.id }, `${p.rule.name}: skipped (${result.reason})`);
        } else record.result(labelsOf(p), result);
      }
      return true;
    } catch (err) {
      const aborted = signal?.aborted === true;
      if (!aborted && group.rules.length > 1 && !affectsEveryRule(err)) {
        logger.warn({ 'rule.id': group.rules.map((p) => p.rule.id), 'error.message': (err as Error).message },
          `a group of ${group.rules.length} rules failed (${(err as Error).message}); running its rules one by one`);
        let ok = true;
        for (const p of group.rules) ok = (await execute({ id: p.rule.id, rules: [p], intervalMs: group.intervalMs }, signal)) && ok;
        return ok;
      }
      for (const p of group.rules) {
        record.failed(labelsOf(p), err, aborted);
        logger.error({ 'rule.id': p.rule.id, 'rule.name': p.rule.name, 'error.message': (err as Error).message, 'error.type': (err as Error).name },
          aborted ? `${p.rule.name}: run abandoned at shutdown; its window will be read again` : `${p.rule.name}: run failed, the window will be retried next run: ${(err as Error).message}`);
      }
      return false;
    }
  };
  const deliver = async (): Promise<void> => {
    try {
      const round = await deliverDue(outbox, channels, Date.now(), {
        ...deliverOptions(nc),
        logger,
        onOutcome: (item, outcome) => {
          if (outcome.kind === 'sent') {
            const arrived = Math.max(...item.alertIds.map((id) => arrivals.get(id) ?? -Infinity));
            if (Number.isFinite(arrived)) latency({ stage: 'notification_sent' }, Math.max(0, (Date.now() - arrived) / 1000));
          }
          return recordDelivery(client, config.alerts.index, item, outcome);
        },
      });
      for (const [outcome, n] of Object.entries(round)) if (n > 0) notifications({ outcome }, n);
      if (round.sent + round.failed + round.dead > 0) logger.info({ ...round }, `notifications: ${round.sent} sent, ${round.failed} failed (will retry), ${round.dead} gave up`);
    } catch (err) {
      errors({ kind: 'notify' });
      logger.error({ 'error.message': (err as Error).message }, `notification delivery failed: ${(err as Error).message}`);
    }
  };
  return { deps, execute, deliver };
}

/** Failures of the cluster's reads or writes: every rule of a group would fail alike, alone too. */
function affectsEveryRule(err: unknown): boolean {
  const name = (err as Error)?.name;
  return err instanceof IncompleteReadError || err instanceof AlertWriteError || name === 'ConnectionError' || name === 'TimeoutError' || name === 'NoLivingConnectionsError' || name === 'ResponseError';
}

/** The configured grouping of rules (shared scans on or off, the worker-wide interval). */
function groupsOf(rules: PreparedRule[], config: Config): RuleGroup[] {
  return formGroups(rules, { shared: config.worker.sharedScans, ...(config.worker.interval !== undefined ? { intervalMs: config.worker.interval } : {}) });
}

/** The promotion target when promotion is on (alerts.promotion.enabled), else null. */
async function ensurePromotion(client: Client, config: Config): Promise<{ target: PromotionTarget; namespace: string } | null> {
  if (!config.alerts.promotion.enabled) return null;
  const namespace = config.alerts.promotion.namespace;
  return { target: await ensurePromotionTarget(client, namespace), namespace };
}

/**
 * Mirrors a notification's delivery state onto its alert documents (`eqlwatch.notification.<channel>`), so
 * failures are visible where analysts look. Best effort: the outbox stays the source of truth.
 */
async function recordDelivery(client: Client, alertsIndex: string, item: OutboxItem, outcome: DeliveryOutcome): Promise<void> {
  const state = {
    status: outcome.kind === 'sent' ? 'sent' : outcome.kind === 'retry' ? 'retrying' : 'failed',
    attempts: item.attempts + 1,
    updated_at: new Date().toISOString(),
    ...(outcome.kind === 'sent' ? {} : { error: outcome.error }),
    notification_id: item.id,
  };
  await Promise.all(
    item.alertIds.map((id) =>
      client
        .update({ index: alertsIndex, id, doc: { eqlwatch: { notification: { [item.channel]: state } } }, retry_on_conflict: 3 })
        .catch(() => undefined),
    ),
  );
}

/** Start-up against Elasticsearch: an unreachable or refusing cluster is one clear error, not a stack trace. */
async function startServices(l: Loaded, metrics: Metrics): Promise<Awaited<ReturnType<typeof prepareServices>> | null> {
  try {
    const services = await prepareServices(l, metrics);
    await checkRulesAgainstCluster(l.client, l.rules.map((p) => p.rule), l.logger, metrics);
    return services;
  } catch (err) {
    const e = err as Error;
    const message = esErrorMessage(err);
    l.logger.fatal({ 'error.message': message, 'error.type': e.name }, `cannot prepare the alerts, state and outbox indices: ${message}`);
    process.stderr.write(`eqlwatch: cannot use Elasticsearch (${describeEsConfig(l.config.elasticsearch)}): ${message}\n` +
      `hint: ${tlsHint(message) ?? 'check elasticsearch.node / ES_URL and the credentials; "eqlwatch validate" checks the config'}\n`);
    return null;
  }
}

export async function onceCommand(opts: { config?: string; rules?: string; only: string[] }): Promise<number> {
  const l = await load(opts);
  if (typeof l === 'number') return l;
  try {
    const rules = l.rules.filter((p) => opts.only.length === 0 || opts.only.includes(p.rule.id));
    if (opts.only.length > 0 && rules.length !== opts.only.length) {
      l.logger.error({ requested: opts.only }, 'some --rule ids are not among the enabled rules');
      return 2;
    }
    const services = await startServices(l, new Metrics());
    if (services === null) return 1;
    let failed = 0;
    for (const g of groupsOf(rules, l.config)) if (!(await services.execute(g))) failed++;
    await services.deliver();
    return failed > 0 || l.ruleErrors > 0 ? 1 : 0;
  } finally {
    await closeEsClient(l.client);
  }
}

export async function rescanCommand(opts: { config?: string; rules?: string; rule?: string; from?: string; to?: string }): Promise<number> {
  const from = opts.from ? Date.parse(opts.from) : NaN;
  const to = opts.to ? Date.parse(opts.to) : NaN;
  if (!opts.rule || !Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    process.stderr.write('Usage: eqlwatch rescan --rule <rule_id> --from <iso> --to <iso>\n' +
      `${!opts.rule ? 'missing --rule' : !Number.isFinite(from) || !Number.isFinite(to) ? '--from and --to must be ISO 8601 times, e.g. 2026-01-01T00:00:00Z' : '--from must be before --to'}\n`);
    return 2;
  }
  const l = await load(opts);
  if (typeof l === 'number') return l;
  try {
    const p = l.rules.find((r) => r.rule.id === opts.rule);
    if (!p) {
      l.logger.error({ 'rule.id': opts.rule }, `no enabled rule with id ${opts.rule}`);
      return 2;
    }
    const services = await startServices(l, new Metrics());
    if (services === null) return 1;
    const report = await rescanRule(services.deps, p, from, to);
    l.logger.info({ 'rule.id': p.rule.id, ...report, from: opts.from, to: opts.to },
      `${p.rule.name}: rescanned ${opts.from} → ${opts.to}: ${report.eventsRead} event(s) read, ${report.matches} match(es), ${report.alertsCreated} alert(s) written, ${report.alertsDuplicate} already present` +
      `${report.complete ? '' : ' (stopped at 100,000 events: rescan shorter ranges)'}`);
    await services.deliver();
    return report.complete ? 0 : 1;
  } finally {
    await closeEsClient(l.client);
  }
}

export async function runCommand(opts: { config?: string; rules?: string }): Promise<number> {
  const l = await load(opts);
  if (typeof l === 'number') return l;
  const { config, logger } = l;
  const metrics = new Metrics({ processMetrics: true });
  const services = await startServices(l, metrics);
  if (services === null) {
    await closeEsClient(l.client);
    return 1;
  }
  const groups = groupsOf(l.rules, config);
  const byId = new Map(groups.map((g) => [g.id, g]));
  logger.info({ groups: groups.length, rules: l.rules.length, shared_scans: config.worker.sharedScans },
    `${l.rules.length} rule(s) in ${groups.length} group(s)${config.worker.sharedScans ? ' (rules over the same indices share one read per window)' : ' (rule by rule: worker.sharedScans is off)'}`);
  const scheduler = new Scheduler({
    rules: groups.map((g) => ({ id: g.id, intervalMs: g.intervalMs })),
    concurrency: config.worker.concurrency,
    run: async (id, signal) => {
      await services.execute(byId.get(id)!, signal);
      if (!signal.aborted) await services.deliver();
    },
  });
  let lastTick = Date.now();
  const ops = config.http.enabled
    ? await startOpsServer({
        host: config.http.host,
        port: config.http.port,
        metrics,
        health: () => ({ healthy: Date.now() - lastTick < 60_000, rules: l.rules.length, running: scheduler.active, workerId: services.deps.workerId }),
      })
    : null;
  const heartbeat = setInterval(() => (lastTick = Date.now()), 5_000);
  if (ops) logger.info({ url: ops.url }, `health and metrics on ${ops.url}/healthz and ${ops.url}/metrics`);
  scheduler.start();
  logger.info({ rules: l.rules.length, workerId: services.deps.workerId }, `eqlwatch worker started with ${l.rules.length} rule(s)`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, `${signal} received: finishing or abandoning current runs (no window is lost)`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  clearInterval(heartbeat);
  await scheduler.stop();
  await ops?.close();
  await closeEsClient(l.client);
  logger.info('eqlwatch worker stopped');
  return 0;
}

export async function setupCommand(opts: { config?: string }): Promise<number> {
  const config = configOrExitCode(opts.config);
  if (typeof config === 'number') return config;
  const client = await clientOrNull(config);
  if (client === null) return 1;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  try {
    const idx = await ensureAlertsIndex(client, { alias: config.alerts.index });
    out(`alerts: alias ${idx.alias} → ${idx.writeIndex}${idx.created ? ' (created)' : ' (exists)'}`);
    await new EsStateStore(client, { index: config.state.index }).ensureIndex();
    out(`state: index ${config.state.index} ready`);
    await new EsOutbox(client, { index: config.notify.outbox.index }).ensureIndex();
    out(`notifications: outbox index ${config.notify.outbox.index} ready`);
    const promotion = await ensurePromotion(client, config);
    if (promotion) out(`promotion: ${promotion.target.kind === 'data_stream' ? 'data stream' : 'index'} ${promotion.target.index} ready`);
    else out('promotion: off (alerts.promotion.enabled: false); alerts stay out of Kibana\'s Security app');
    if (config.kibana.url) {
      const k = await setupKibana(config);
      out(`kibana: data view "${k.dataViewTitle}" (${k.dataViewId}) and saved search "${k.savedSearchTitle}" ready`);
      if (k.promotionRule) {
        out(`kibana: promotion rule "${k.promotionRule.name}" (rule_id ${k.promotionRule.ruleId}) ${k.promotionRule.created ? 'created' : 'updated'} in space ${config.alerts.spaceId}: eqlwatch alerts appear in Security → Alerts within about a minute`);
      }
    } else {
      out('kibana: no kibana.url / KIBANA_URL configured; import kibana/eqlwatch-saved-objects.ndjson in Kibana instead' +
        (promotion ? ', and create the promotion rule (README, Alerts, "Promotion into Kibana\'s Security app")' : ''));
    }
    return 0;
  } catch (err) {
    const message = esErrorMessage(err);
    process.stderr.write(`eqlwatch setup failed: ${message}\nhint: ${tlsHint(message) ?? 'check elasticsearch.node / ES_URL and credentials (eqlwatch validate checks the config)'}\n`);
    return 1;
  } finally {
    await closeEsClient(client);
  }
}

export async function notifyTestCommand(opts: { config?: string; channel?: string }): Promise<number> {
  if (!opts.channel) {
    process.stderr.write('Usage: eqlwatch notify-test --channel <name>\n');
    return 2;
  }
  const config = configOrExitCode(opts.config);
  if (typeof config === 'number') return config;
  if (!Object.hasOwn(config.notify.channels, opts.channel)) {
    process.stderr.write(`eqlwatch notify-test: no channel "${opts.channel}" under notify.channels (configured: ${Object.keys(config.notify.channels).join(', ') || 'none'})\n`);
    return 2;
  }
  try {
    const result = await notifyTest(opts.channel, notifyConfig(config));
    process.stdout.write(`sent a test notification through "${result.channel}" (notification id ${result.notificationId})\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`notify-test through "${opts.channel}" failed: ${(err as Error).message}\nhint: check notify.channels.${opts.channel} and its secrets\n`);
    return 1;
  }
}
