/**
 * `kibana.alert.rule.parameters`: Kibana writes the whole rule's parameters there, snake_case
 * (build_alert.ts: `{...commonParamsCamelToSnake(ruleParams), ...typeSpecificCamelToSnake(ruleParams)}`),
 * i.e. every detection-rules `[rule]` key except those Kibana keeps on the rule object rather than in its
 * params (`name`, `tags`, `interval`, `enabled`, `actions`, `throttle`), with Kibana's defaults filled in.
 */
import type { DetectionRuleFields } from './schema.js';

/** Rule attributes Kibana stores outside `params` (alerting framework's rule config). */
const NOT_PARAMETERS = new Set(['name', 'tags', 'interval', 'enabled', 'actions', 'throttle']);

export function ruleParameters(fields: DetectionRuleFields, index: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (!NOT_PARAMETERS.has(key) && value !== undefined) out[key] = value;
  return {
    ...out,
    type: 'eql',
    language: 'eql',
    index: [...index],
    to: fields.to ?? 'now',
    version: fields.version ?? 1,
    immutable: false,
    exceptions_list: fields.exceptions_list ?? [],
  };
}
