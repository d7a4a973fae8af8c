/** The worker configuration the demo writes to a temporary file: its own indices, mail to the local catcher. */
import type { ConfigInput } from '../../src/config/schema.js';

export const DEMO_ALERTS_INDEX = 'eqlwatch-demo-alerts';
export const DEMO_STATE_INDEX = 'eqlwatch-demo-state';
export const DEMO_OUTBOX_INDEX = 'eqlwatch-demo-outbox';

export function demoConfig(o: { esUrl: string; smtpPort: number; rulesDir: string; kibanaUrl?: string }): ConfigInput {
  return {
    elasticsearch: { node: o.esUrl },
    rules: { dir: o.rulesDir },
    alerts: { index: DEMO_ALERTS_INDEX },
    state: { index: DEMO_STATE_INDEX },
    ...(o.kibanaUrl ? { kibana: { url: o.kibanaUrl } } : {}),
    worker: { id: 'eqlwatch-demo' },
    notify: {
      channels: {
        demo_mail: {
          type: 'email',
          host: '127.0.0.1',
          port: o.smtpPort,
          secure: false,
          // The catcher is a loopback test server without TLS; never do this with a real relay.
          requireTLS: false,
          from: 'eqlwatch-demo@example.com',
          to: ['soc@example.com'],
          subjectPrefix: '[eqlwatch demo]',
        },
      },
      defaultRoute: { channels: ['demo_mail'] },
      outbox: { index: DEMO_OUTBOX_INDEX },
    },
    http: { enabled: false },
    logging: { level: 'info' },
  };
}
