/**
 * Ground truth in a form that survives serialisation: each expected alert names its documents
 * by line in the combined NDJSON file, by data stream, and by an id found inside the document
 * (`event.id` for process events, `kubernetes.audit.auditID` + stage for audit events).
 */
import { SEED_RULES } from './attacks.js';
import { indexOfDoc, type Scenario } from './generate.js';
import type { ScenarioDoc } from './timeline.js';

export interface DocRef {
  line: number;
  index: string;
  timestamp: string;
  id: string;
}

export function docId(doc: ScenarioDoc): string {
  const event = doc['event'] as { id?: string } | undefined;
  if (event?.id) return event.id;
  const audit = (doc['kubernetes'] as { audit?: { auditID?: string; stage?: string } } | undefined)?.audit;
  return `${audit?.auditID ?? ''}/${audit?.stage ?? ''}`;
}

export function docRef(scenario: Scenario, line: number): DocRef {
  const doc = scenario.events[line] as ScenarioDoc;
  return { line, index: indexOfDoc(doc), timestamp: doc['@timestamp'] as string, id: docId(doc) };
}

export function groundTruth(scenario: Scenario): Record<string, unknown> {
  const { benignMix, attackMix, ...opts } = scenario.options;
  return {
    options: { ...opts, start: new Date(opts.startMs).toISOString(), attackMix, benignMix },
    rules: SEED_RULES,
    stats: scenario.stats,
    expectedAlertCounts: {
      interactive_exec: scenario.expectedAlerts.filter((a) => a.rule === 'interactive_exec').length,
      api_request: scenario.expectedAlerts.filter((a) => a.rule === 'api_request').length,
    },
    attacks: scenario.attacks.map((a) => ({
      id: a.id,
      kind: a.kind,
      pod: a.pod,
      namespace: a.namespace,
      containerId: a.containerId,
      start: new Date(a.startMs).toISOString(),
      end: new Date(a.endMs).toISOString(),
      lines: a.eventIndices,
    })),
    expectedAlerts: scenario.expectedAlerts.map((e) => ({
      rule: e.rule,
      ruleName: SEED_RULES[e.rule].name,
      attackId: e.attackId,
      events: e.eventIndices.map((line) => docRef(scenario, line)),
    })),
  };
}
