/**
 * Structured JSON logs in ECS shape, shaped by Elastic's own formatter for pino (`@elastic/ecs-pino-format`:
 * `@timestamp`, `log.level`, `message`, `ecs.version`, `process.pid`, `host.hostname`, `service.name`, an
 * `err` as `error.*`), with secrets redacted wherever they appear under known key names. Event-derived
 * strings are JSON-escaped by pino, so a hostile value cannot forge a log line.
 */
import { ecsFormat } from '@elastic/ecs-pino-format';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'password', '*.password', '*.*.password', 'apiKey', '*.apiKey', '*.*.apiKey', 'api_key', '*.api_key',
  'authorization', '*.authorization', '*.headers.authorization', '*.headers.Authorization', 'secret', '*.secret',
  '*.*.secret', 'token', '*.token', 'webhookUrl', '*.webhookUrl', '*.*.webhookUrl', 'url_with_secret',
];

export function createLogger(opts: { level?: string; destination?: DestinationStream; name?: string } = {}): Logger {
  return pino(
    {
      // No APM agent runs in the worker: do not let the formatter look for one.
      ...ecsFormat({ serviceName: opts.name ?? 'eqlwatch', apmIntegration: false }),
      level: opts.level ?? 'info',
      redact: { paths: REDACT, censor: '[REDACTED]' },
    },
    opts.destination,
  );
}
