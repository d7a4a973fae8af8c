/**
 * Structured JSON logs in ECS shape (`@timestamp`, `log.level`, `message`, `ecs.version`) with secrets
 * redacted wherever they appear under known key names. Event-derived strings are JSON-escaped by pino, so a
 * hostile value cannot forge a log line.
 */
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
      level: opts.level ?? 'info',
      messageKey: 'message',
      timestamp: () => `,"@timestamp":"${new Date().toISOString()}"`,
      base: { 'ecs.version': '8.11.0', 'service.name': opts.name ?? 'eqlwatch', 'process.pid': process.pid },
      formatters: { level: (label) => ({ 'log.level': label }) },
      redact: { paths: REDACT, censor: '[REDACTED]' },
    },
    opts.destination,
  );
}
