/** A clearly-marked sample alert, used by `notify-test` and by scripts/render-samples.ts. */
import type { AlertDoc } from './types.js';

export const SAMPLE_ALERT_ID = 'eqlwatch-test-0000000000000000000000000000000000000000';

export function sampleAlert(timestamp = '2026-01-01T00:00:00.000Z'): AlertDoc {
  return {
    '@timestamp': timestamp,
    'kibana.alert.uuid': SAMPLE_ALERT_ID,
    'kibana.alert.rule.uuid': 'eqlwatch-sample-rule',
    'kibana.alert.rule.rule_id': 'eqlwatch-sample-rule',
    'kibana.alert.rule.name': 'eqlwatch sample: Kubectl exec into a pod (TEST, no action needed)',
    'kibana.alert.rule.tags': ['Domain: Container', 'Tactic: Execution', 'eqlwatch: test'],
    'kibana.alert.rule.threat': [
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0002', name: 'Execution', reference: 'https://attack.mitre.org/tactics/TA0002/' },
        technique: [{ id: 'T1609', name: 'Container Administration Command', reference: 'https://attack.mitre.org/techniques/T1609/' }],
      },
    ],
    'kibana.alert.severity': 'medium',
    'kibana.alert.risk_score': 47,
    'kibana.alert.original_time': timestamp,
    'kibana.alert.reason': 'process event with process sh, by root on node-1 created medium alert eqlwatch sample.',
    host: { name: 'node-1' },
    container: { id: '3f1c0de5a1b2', name: 'web' },
    orchestrator: { resource: { name: 'web-7d9f8c-abcde' }, namespace: 'default' },
    user: { name: 'root' },
    process: { name: 'sh', executable: '/bin/sh', command_line: 'sh -c "id; cat /etc/hostname"', args: ['sh', '-c', 'id; cat /etc/hostname'] },
  };
}
