import { describe, expect, it } from 'vitest';
import type { BuiltAlert } from '../../src/alerts/build.js';
import { notificationDocs } from '../../src/alerts/notification-view.js';

const shell: BuiltAlert = {
  id: 'shell-1',
  buildingBlock: false,
  doc: { 'kibana.alert.uuid': 'shell-1', 'kibana.alert.group.id': 'shell-1', 'host.name': 'node-1', '@timestamp': 'T-shell' },
};
const processBlock: BuiltAlert = {
  id: 'bb-0',
  buildingBlock: true,
  doc: {
    'kibana.alert.uuid': 'bb-0',
    'kibana.alert.group.id': 'shell-1',
    'kibana.alert.building_block_type': 'default',
    '@timestamp': 'T-bb0',
    'event.kind': 'signal',
    process: { command_line: 'curl -k https://kubernetes.default' },
    orchestrator: { resource: { name: 'web-1' } },
    'host.name': 'other',
  },
};
const auditBlock: BuiltAlert = {
  id: 'bb-1',
  buildingBlock: true,
  doc: { 'kibana.alert.group.id': 'shell-1', 'kibana.alert.building_block_type': 'default', kubernetes: { audit: { verb: 'list' } }, orchestrator: { resource: { name: 'apiserver' } } },
};
const single: BuiltAlert = { id: 'single', buildingBlock: false, doc: { 'kibana.alert.uuid': 'single', 'process.name': 'bash' } };

describe('notificationDocs', () => {
  it('drops building blocks and keeps single-event alerts unchanged', () => {
    const docs = notificationDocs([single, shell, processBlock, auditBlock]);
    expect(docs).toHaveLength(2);
    expect(docs[0]).toBe(single.doc);
  });

  it('completes a sequence shell with its events, first event first, without alert bookkeeping', () => {
    const [doc] = notificationDocs([shell, processBlock, auditBlock]);
    expect(doc).toMatchObject({
      'kibana.alert.uuid': 'shell-1',
      process: { command_line: 'curl -k https://kubernetes.default' },
      kubernetes: { audit: { verb: 'list' } },
      orchestrator: { resource: { name: 'web-1' } },
      'host.name': 'node-1',
      '@timestamp': 'T-shell',
    });
    expect(doc).not.toHaveProperty('kibana.alert.building_block_type');
    expect(doc).not.toHaveProperty('event.kind');
  });

  it('leaves the stored shell document untouched', () => {
    notificationDocs([shell, processBlock]);
    expect(shell.doc).not.toHaveProperty('process');
  });
});
