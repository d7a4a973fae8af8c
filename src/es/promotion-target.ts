/**
 * Where promotion documents (alerts/promotion.ts) are written: the `logs-eqlwatch.alerts-<namespace>` data
 * stream, through eqlwatch's own composable template (priority above Elasticsearch's built-in `logs-*-*`
 * template, so the ECS mapping below applies and no ingest pipeline is needed). Elasticsearch creates the
 * data stream on the first write. A cluster that refuses data-stream templates gets the same template
 * without `data_stream` and a plain index of that name instead.
 *
 * Mapping: the ECS field map (alerts/ecs-fields.ts), `dynamic: false`, plus `eqlwatch.alert.{id,index}`,
 * `ignore_malformed` as a second line: the documents only carry values already fitted to ECS.
 */
import type { Client } from '@elastic/elasticsearch';
import { ECS_FIELDS, ECS_PACKAGE_VERSION, keyValueTemplates } from '../alerts/ecs-fields.js';
import { promotionIndex } from '../alerts/promotion.js';
import { tree } from './alerts-template.js';

export const PROMOTION_TEMPLATE_VERSION = 1;

export interface PromotionTarget {
  /** Name to write to (data stream or index). */
  index: string;
  kind: 'data_stream' | 'index';
}

export function promotionTemplateName(namespace: string): string {
  return `${promotionIndex(namespace)}-eqlwatch`;
}

export function promotionTemplate(namespace: string, dataStream: boolean): Record<string, unknown> {
  const keyword = { type: 'keyword', ignore_above: 1024 };
  return {
    index_patterns: [promotionIndex(namespace)],
    // Above the built-in `logs` template (100) and any `logs-*` template of the same priority as eqlwatch's alerts template.
    priority: 300,
    ...(dataStream ? { data_stream: {} } : {}),
    _meta: { managed_by: 'eqlwatch', version: PROMOTION_TEMPLATE_VERSION, ecs: ECS_PACKAGE_VERSION },
    template: {
      settings: {
        'index.number_of_shards': 1,
        'index.auto_expand_replicas': '0-1',
        'index.mapping.total_fields.limit': 6000,
        'index.mapping.total_fields.ignore_dynamic_beyond_limit': true,
        'index.mapping.ignore_malformed': true,
      },
      mappings: {
        dynamic: false,
        date_detection: false,
        dynamic_templates: keyValueTemplates(),
        properties: tree([...ECS_FIELDS, ['eqlwatch.alert.id', keyword], ['eqlwatch.alert.index', keyword]]),
      },
    },
  };
}

function errorOf(e: unknown): { type?: string; reason?: string } {
  return (e as { meta?: { body?: { error?: { type?: string; reason?: string } } } }).meta?.body?.error ?? {};
}

/** Idempotently installs the template (and, without data streams, the index). Safe from several workers at once. */
export async function ensurePromotionTarget(client: Client, namespace: string): Promise<PromotionTarget> {
  const index = promotionIndex(namespace);
  const name = promotionTemplateName(namespace);
  try {
    await client.indices.putIndexTemplate({ name, ...promotionTemplate(namespace, true) });
    return { index, kind: 'data_stream' };
  } catch (e) {
    if (!/data.?stream/i.test(`${errorOf(e).reason ?? ''} ${errorOf(e).type ?? ''}`)) throw e;
  }
  await client.indices.putIndexTemplate({ name, ...promotionTemplate(namespace, false) });
  try {
    await client.indices.create({ index });
  } catch (e) {
    if (errorOf(e).type !== 'resource_already_exists_exception') throw e;
  }
  return { index, kind: 'index' };
}
