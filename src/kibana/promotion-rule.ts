/**
 * The Kibana detection rule that promotes eqlwatch's promotion documents (alerts/promotion.ts) into Security
 * alerts: a custom query rule (`type: query`) shaped like Elastic's prebuilt "External Alerts" rule
 * (detection-rules rules/promotions/external_alerts.toml: rule_name_override `message`, timestamp_override
 * `event.ingested`, severity mapped from `event.severity` 21/47/73/99, risk score from `event.risk_score`,
 * interval 1m over now-2m, max_signals 1000), but reading only eqlwatch's data stream. The query is Lucene
 * so that Elasticsearch's `query_string` runs it verbatim (the real-node test runs exactly this string).
 * Request bodies follow Kibana's published OpenAPI description of the detection engine API (checked in
 * test/kibana/promotion-rule.test.ts). Pure.
 */
import { PROMOTION_MODULE, promotionIndex, SEVERITY_NUMBER } from '../alerts/promotion.js';
import { SEVERITIES } from '../rules/schema.js';

export const PROMOTION_QUERY = `event.kind:alert AND event.module:${PROMOTION_MODULE}`;
export const PROMOTION_MAX_SIGNALS = 1000;

export function promotionRuleId(namespace: string): string {
  return `eqlwatch-promotion-${namespace}`;
}

/** `POST /api/detection_engine/rules` body (QueryRuleCreateProps); the same body updates it (`PUT`, QueryRuleUpdateProps). */
export function promotionRuleBody(namespace: string): Record<string, unknown> {
  const index = promotionIndex(namespace);
  return {
    rule_id: promotionRuleId(namespace),
    type: 'query',
    language: 'lucene',
    query: PROMOTION_QUERY,
    index: [index],
    name: `eqlwatch alerts (${index})`,
    description:
      'Promotes every alert written by eqlwatch (EQL detection rules run outside Kibana) into a Security alert. ' +
      'The alert takes the eqlwatch rule name, severity and risk score; the eqlwatch alert id is in event.id and eqlwatch.alert.id.',
    severity: 'medium',
    risk_score: 47,
    severity_mapping: SEVERITIES.map((severity) => ({ field: 'event.severity', operator: 'equals', value: String(SEVERITY_NUMBER[severity]), severity })),
    risk_score_mapping: [{ field: 'event.risk_score', operator: 'equals', value: '' }],
    rule_name_override: 'message',
    timestamp_override: 'event.ingested',
    interval: '1m',
    from: 'now-2m',
    max_signals: PROMOTION_MAX_SIGNALS,
    enabled: true,
    tags: ['eqlwatch', 'Promotion'],
    author: ['eqlwatch'],
    version: 1,
    references: [],
    false_positives: [],
    required_fields: [
      { name: 'event.kind', type: 'keyword' },
      { name: 'event.module', type: 'keyword' },
      { name: 'event.severity', type: 'long' },
      { name: 'event.risk_score', type: 'float' },
      { name: 'message', type: 'match_only_text' },
    ],
    setup: 'Installed by `eqlwatch setup`. The eqlwatch worker writes the documents this rule reads (alerts.promotion in its configuration).',
  };
}
