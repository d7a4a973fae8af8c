/** `eqlwatch notify-test --channel <name>`: send one clearly-marked sample notification directly. */
import type { NotifyConfig } from '../config/notify.js';
import { buildChannel } from './factory.js';
import { notificationId } from './outbox.js';
import { sampleAlert } from './sample.js';
import { summarizeAlert } from './render/summary.js';

export interface NotifyTestResult {
  channel: string;
  notificationId: string;
}

/**
 * Send a sample alert (kind `test`, "[TEST]" in subject/title) through one configured channel, bypassing
 * routing and the outbox, and throw the channel's error if delivery fails.
 */
export async function notifyTest(channel: string, config: NotifyConfig, env: NodeJS.ProcessEnv = process.env, now = Date.now()): Promise<NotifyTestResult> {
  const c = config.channels[channel];
  if (!c) throw new Error(`unknown channel "${channel}"; configured: ${Object.keys(config.channels).join(', ') || 'none'}`);
  const ch = buildChannel(channel, c, config, env);
  const summary = summarizeAlert(sampleAlert(new Date(now).toISOString()), config.limits);
  const id = notificationId(channel, [`${summary.alertId}-${now}`], 'test');
  try {
    await ch.send({
      notificationId: id,
      alertIds: [summary.alertId],
      payload: { kind: 'test', ruleName: summary.ruleName, ...(summary.ruleId ? { ruleId: summary.ruleId } : {}), severity: summary.severity, alerts: [summary], total: 1 },
      suppressed: 0,
    });
  } finally {
    await ch.close?.();
  }
  return { channel, notificationId: id };
}
