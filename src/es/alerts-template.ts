/**
 * The alerts index: a composable index template plus a first backing index behind a write alias.
 *
 * Naming: alerts go to the alias `eqlwatch-alerts-<space>` (default `eqlwatch-alerts-default`), whose
 * write index is `eqlwatch-alerts-<space>-000001`. A Kibana data view `eqlwatch-alerts-*` shows them.
 * Not `.alerts-security.alerts-*`: dot-prefixed names are reserved for system/hidden indices
 * (Elasticsearch warns on 8.x and Kibana owns those indices), so a user-space name is used.
 *
 * Mapping choices, all because alert documents carry attacker-controlled event fields:
 *  - the ECS field map of Elastic's `@elastic/ecs` package (alerts/ecs-fields.ts) plus Kibana's `kibana.alert.*`
 *    fields and eqlwatch's `eqlwatch.*` fields, with `dynamic: false` everywhere else, as Kibana's own alerts
 *    index: a field outside the mapping stays in `_source` unindexed and can never add a mapping, so the first
 *    odd event cannot decide how later alerts are indexed;
 *  - event values that do not fit the mapping are dropped from the alert before it is written
 *    (alerts/sanitize.ts, Kibana's traverse_and_mutate_doc) and listed in `eqlwatch.ignored_fields`;
 *  - `index.mapping.ignore_malformed` as a second line (as Kibana's alerts-as-data and Elastic's logs
 *    templates do): a value of the wrong type that still got through is skipped and listed in `_ignored`;
 *  - ECS key/value objects (`labels.*`, `container.labels.*`) map their keys as keywords (ECS `object_type`), and
 *    keys beyond the raised `total_fields.limit` (the ECS map has about 2,300 fields) stay unmapped
 *    (`ignore_dynamic_beyond_limit`) instead of rejecting the alert.
 * Only core field types are used (the integ-test distribution has no mapper-extras or x-pack mappers).
 */
import type { Client } from '@elastic/elasticsearch';
import { ECS_FIELDS, ECS_PACKAGE_VERSION, keyValueTemplates } from '../alerts/ecs-fields.js';

export const DEFAULT_ALERTS_ALIAS = 'eqlwatch-alerts-default';
/** Bump when the mappings below change; stored in the template's `_meta`. */
export const ALERTS_TEMPLATE_VERSION = 2;

const KEYWORD_IGNORE_ABOVE = 1024;

const keyword = { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE } as const;
const date = { type: 'date' } as const;
const long = { type: 'long' } as const;
const float = { type: 'float' } as const;
const bool = { type: 'boolean' } as const;
/** Long free text: exact keyword (prefix of `ignore_above`) plus an analysed `.text` sub-field. */
const longKeywordWithText = {
  type: 'keyword',
  ignore_above: 8191,
  fields: { text: { type: 'text' } },
} as const;

type Mapping = Record<string, unknown>;

/**
 * Nested `properties` from dotted paths, e.g. {'a.b': x} -> {a: {properties: {b: x}}}. An object-typed leaf
 * (`{type: 'object'}`) that also has mapped children keeps its children.
 */
export function tree(flat: Iterable<[string, Mapping]>): Mapping {
  const root: Record<string, Mapping> = {};
  for (const [path, leaf] of flat) {
    const parts = path.split('.');
    let level = root;
    for (const [i, part] of parts.entries()) {
      const existing = level[part] as { properties?: Record<string, Mapping> } | undefined;
      if (i === parts.length - 1) {
        level[part] = existing?.properties ? { ...leaf, properties: existing.properties } : leaf;
      } else {
        const node = (existing ?? {}) as { type?: string; properties?: Record<string, Mapping> };
        node.properties ??= {};
        level[part] = node;
        level = node.properties;
      }
    }
  }
  return root;
}

const ancestor = {
  properties: { id: keyword, index: keyword, type: keyword, depth: long, rule: keyword },
};

/** Kibana's and eqlwatch's own fields (flat dotted paths; `tree` nests them). */
const alertFields: Record<string, Mapping> = {
  '@timestamp': date,
  // An alert the index still rejected (a mapping conflict the ECS fitting did not foresee) keeps its event here, unindexed.
  'eqlwatch.source': { type: 'object', enabled: false },
  'eqlwatch.degraded': keyword,
  // Paths of event values dropped because they do not fit the mapping (the source event still has them).
  'eqlwatch.ignored_fields': keyword,
  // Notification delivery state per channel (commands.ts recordDelivery); channel names are the config's.
  'eqlwatch.notification': { type: 'flattened' },
  'eqlwatch.sequence.events': { properties: { id: keyword, index: keyword, original_time: date } },
  'kibana.alert.original_time': date,
  'kibana.alert.start': date,
  'kibana.alert.last_detected': date,
  'kibana.alert.intended_timestamp': date,
  'kibana.alert.uuid': keyword,
  'kibana.alert.status': keyword,
  'kibana.alert.workflow_status': keyword,
  'kibana.alert.workflow_tags': keyword,
  'kibana.alert.workflow_assignee_ids': keyword,
  'kibana.alert.severity': keyword,
  'kibana.alert.risk_score': float,
  'kibana.alert.reason': longKeywordWithText,
  'kibana.alert.depth': long,
  'kibana.alert.ancestors': ancestor,
  'kibana.alert.building_block_type': keyword,
  'kibana.alert.group.id': keyword,
  'kibana.alert.group.index': { type: 'integer' },
  'kibana.alert.url': { type: 'keyword', index: false, doc_values: false },
  'kibana.alert.rule.uuid': keyword,
  'kibana.alert.rule.rule_id': keyword,
  'kibana.alert.rule.name': keyword,
  'kibana.alert.rule.description': longKeywordWithText,
  'kibana.alert.rule.severity': keyword,
  'kibana.alert.rule.risk_score': float,
  'kibana.alert.rule.tags': keyword,
  'kibana.alert.rule.type': keyword,
  'kibana.alert.rule.rule_type_id': keyword,
  'kibana.alert.rule.category': keyword,
  'kibana.alert.rule.consumer': keyword,
  'kibana.alert.rule.producer': keyword,
  'kibana.alert.rule.version': keyword,
  'kibana.alert.rule.from': keyword,
  'kibana.alert.rule.to': keyword,
  'kibana.alert.rule.interval': keyword,
  'kibana.alert.rule.indices': keyword,
  'kibana.alert.rule.max_signals': long,
  'kibana.alert.rule.author': keyword,
  'kibana.alert.rule.references': keyword,
  'kibana.alert.rule.false_positives': keyword,
  'kibana.alert.rule.license': keyword,
  'kibana.alert.rule.note': { type: 'text' },
  'kibana.alert.rule.timestamp_override': keyword,
  'kibana.alert.rule.rule_name_override': keyword,
  'kibana.alert.rule.severity_mapping': { properties: { field: keyword, operator: keyword, value: keyword, severity: keyword } },
  'kibana.alert.rule.risk_score_mapping': { properties: { field: keyword, operator: keyword, value: keyword } },
  'kibana.alert.rule.exceptions_list': { type: 'object', enabled: false },
  'kibana.alert.rule.immutable': bool,
  'kibana.alert.rule.enabled': bool,
  'kibana.alert.rule.execution.uuid': keyword,
  'kibana.alert.rule.execution.type': keyword,
  'kibana.alert.rule.execution.timestamp': date,
  // Kibana maps rule parameters as `flattened`: searchable leaves without one mapping per key.
  'kibana.alert.rule.parameters': { type: 'flattened', ignore_above: 4096 },
  'kibana.alert.rule.threat': {
    properties: {
      framework: keyword,
      tactic: { properties: { id: keyword, name: keyword, reference: keyword } },
      technique: {
        properties: {
          id: keyword,
          name: keyword,
          reference: keyword,
          subtechnique: { properties: { id: keyword, name: keyword, reference: keyword } },
        },
      },
    },
  },
  'kibana.space_ids': keyword,
  'kibana.version': keyword,
};

export interface AlertsTemplateOptions {
  /** Write alias (default `eqlwatch-alerts-default`). */
  alias?: string;
  /** Mapped-field limit; raised because alerts copy whole events (default 6000). */
  totalFieldsLimit?: number;
  /** Template priority; must differ from any other template matching the same names (default 250). */
  priority?: number;
}

/** Composable template name for an alias. */
export function alertsTemplateName(alias: string = DEFAULT_ALERTS_ALIAS): string {
  return `${alias}-template`;
}

/** First backing index behind the alias. */
export function initialAlertsIndex(alias: string = DEFAULT_ALERTS_ALIAS): string {
  return `${alias}-000001`;
}

/** ECS `event.*` fields, also mapped where Kibana copies them (`kibana.alert.original_event.*`). */
function originalEventFields(): [string, Mapping][] {
  return [...ECS_FIELDS].filter(([path]) => path.startsWith('event.')).map(([path, m]) => [`kibana.alert.original_event.${path.slice(6)}`, m]);
}

/** The mappings of the alerts index (pure, exported for inspection and tests). */
export function alertsMappings(): Mapping {
  return {
    dynamic: false,
    date_detection: false,
    numeric_detection: false,
    dynamic_templates: keyValueTemplates(),
    properties: tree([...ECS_FIELDS, ...originalEventFields(), ...Object.entries(alertFields)]),
  };
}

/** The composable index template body (pure). */
export function alertsIndexTemplate(opts: AlertsTemplateOptions = {}): Record<string, unknown> {
  const alias = opts.alias ?? DEFAULT_ALERTS_ALIAS;
  return {
    index_patterns: [alias, `${alias}-*`],
    priority: opts.priority ?? 250,
    _meta: { managed_by: 'eqlwatch', version: ALERTS_TEMPLATE_VERSION, ecs: ECS_PACKAGE_VERSION },
    template: {
      settings: {
        'index.number_of_shards': 1,
        'index.auto_expand_replicas': '0-1',
        'index.mapping.total_fields.limit': opts.totalFieldsLimit ?? 6000,
        // `labels.*` keys beyond the limit stay in _source unmapped instead of rejecting the alert (ES 8.14+).
        'index.mapping.total_fields.ignore_dynamic_beyond_limit': true,
        'index.mapping.ignore_malformed': true,
      },
      mappings: alertsMappings(),
    },
  };
}

function errorType(e: unknown): string | undefined {
  const body = (e as { meta?: { body?: { error?: { type?: string } } } }).meta?.body;
  return body?.error?.type;
}

/**
 * Existing indices get the template's mappings (additive changes apply in place). An index whose mapping
 * contradicts them (one written by an eqlwatch that still mapped event fields dynamically, where the first odd
 * event fixed a type) is rolled over: new alerts go to a fresh backing index with the current mapping.
 */
async function upgradeWriteIndex(client: Client, alias: string, write: string): Promise<EnsuredAlertsIndex> {
  try {
    await client.indices.putMapping({ index: write, ...(alertsMappings() as object) });
    return { alias, writeIndex: write, created: false };
  } catch (e) {
    if (errorType(e) !== 'illegal_argument_exception') throw e;
    const rolled = await client.indices.rollover({ alias });
    return { alias, writeIndex: rolled.new_index, created: true };
  }
}

export interface EnsuredAlertsIndex {
  alias: string;
  /** The index writes go to. */
  writeIndex: string;
  /** True when this call created the index. */
  created: boolean;
}

/**
 * Idempotently installs the template and the first index with its write alias. Safe to call from
 * several workers at once. Existing indices get the template's (additive) mappings, so a new eqlwatch
 * version can add fields without a rollover.
 */
export async function ensureAlertsIndex(client: Client, opts: AlertsTemplateOptions = {}): Promise<EnsuredAlertsIndex> {
  const alias = opts.alias ?? DEFAULT_ALERTS_ALIAS;
  const body = alertsIndexTemplate(opts);
  await client.indices.putIndexTemplate({ name: alertsTemplateName(alias), ...body });

  // The name may already be an alias (normal case) or a concrete index (auto-created by an earlier write).
  const aliasExists = await client.indices.existsAlias({ name: alias });
  if (aliasExists) {
    const res = await client.indices.getAlias({ name: alias });
    const entries = Object.entries(res);
    const write =
      entries.find(([, v]) => v.aliases?.[alias]?.is_write_index === true)?.[0] ??
      (entries.length === 1 ? entries[0]?.[0] : undefined);
    if (write === undefined) throw new Error(`alias ${alias} has several indices and no write index`);
    return upgradeWriteIndex(client, alias, write);
  }
  if (await client.indices.exists({ index: alias })) {
    await client.indices.putMapping({ index: alias, ...(alertsMappings() as object) });
    return { alias, writeIndex: alias, created: false };
  }

  const index = initialAlertsIndex(alias);
  try {
    await client.indices.create({ index, aliases: { [alias]: { is_write_index: true } }, wait_for_active_shards: 1 });
    return { alias, writeIndex: index, created: true };
  } catch (e) {
    // Another worker won the race: fine, the index now exists with the alias.
    if (errorType(e) === 'resource_already_exists_exception') return { alias, writeIndex: index, created: false };
    throw e;
  }
}
