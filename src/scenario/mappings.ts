/**
 * Index templates for the scenario's two indices, shaped like the Elastic integrations' mappings
 * (elastic/integrations `packages/cloud_defend/data_stream/process` and
 * `packages/kubernetes/data_stream/audit_logs`): ECS keyword fields with `ignore_above: 1024`,
 * booleans, dates, `ip`, `kubernetes.audit.user.extra.*` as keywords and
 * annotations as text, unknown strings as keywords (the `logs@mappings` dynamic template).
 *
 * Deviations so the same templates work on every node eqlwatch meets, including the integration-test
 * distribution (no mapper-extras, no x-pack data streams): plain indices instead of data streams,
 * `keyword` (+ `.text`) where the integration uses `wildcard` / `match_only_text`, and `keyword` for
 * `constant_keyword`. None of these changes how the rules' fields are queried. A priority above the
 * built-in `logs` template (100) keeps a full distribution from turning the index into a data stream.
 */
import type { estypes } from '@elastic/elasticsearch';

type Prop = estypes.MappingProperty;

/** Marks indices and templates created by the loader, so it never deletes anything else. */
export const MANAGED_BY = 'eqlwatch-scenario';
export const TEMPLATE_PRIORITY = 500;

const kw = (): Prop => ({ type: 'keyword', ignore_above: 1024 });
const kwText = (): Prop => ({ type: 'keyword', ignore_above: 1024, fields: { text: { type: 'text' } } });
const bool = (): Prop => ({ type: 'boolean' });
const date = (): Prop => ({ type: 'date' });
const long = (): Prop => ({ type: 'long' });
const ip = (): Prop => ({ type: 'ip' });

/** Expands `{ 'a.b.c': x }` into nested `properties`. */
export function nest(flat: Record<string, Prop>): Record<string, Prop> {
  const root: Record<string, Prop> = {};
  for (const [path, prop] of Object.entries(flat)) {
    const parts = path.split('.');
    let cur = root;
    for (const k of parts.slice(0, -1)) {
      const o = (cur[k] ??= { properties: {} }) as estypes.MappingObjectProperty;
      cur = o.properties ??= {};
    }
    cur[parts[parts.length - 1]!] = prop;
  }
  return root;
}

const stringsAsKeyword: Record<string, estypes.MappingDynamicTemplate> = {
  strings_as_keyword: { match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } },
};

const ecsCommon: Record<string, Prop> = {
  '@timestamp': date(),
  'event.ingested': date(),
  'event.created': date(),
  'event.id': kw(),
  'event.kind': kw(),
  'event.category': kw(),
  'event.type': kw(),
  'event.action': kw(),
  'event.outcome': kw(),
  'event.module': kw(),
  'event.dataset': kw(),
  'data_stream.type': kw(),
  'data_stream.dataset': kw(),
  'data_stream.namespace': kw(),
  'ecs.version': kw(),
  'agent.id': kw(),
  'agent.name': kw(),
  'agent.type': kw(),
  'agent.version': kw(),
  'host.name': kw(),
  'host.hostname': kw(),
  'host.id': kw(),
  'host.ip': ip(),
  'host.containerized': bool(),
  'host.os.type': kw(),
  'host.os.family': kw(),
  'host.os.name': kwText(),
  'host.os.kernel': kw(),
  'user.id': kw(),
  'user.name': kwText(),
};

function processFields(prefix: string): Record<string, Prop> {
  return {
    [`${prefix}.entity_id`]: kw(),
    [`${prefix}.pid`]: long(),
    [`${prefix}.name`]: kwText(),
    [`${prefix}.executable`]: kwText(),
    [`${prefix}.args`]: kw(),
    [`${prefix}.args_count`]: long(),
    [`${prefix}.command_line`]: kwText(),
    [`${prefix}.working_directory`]: kwText(),
    [`${prefix}.interactive`]: bool(),
    [`${prefix}.start`]: date(),
    [`${prefix}.user.id`]: kw(),
    [`${prefix}.user.name`]: kwText(),
    [`${prefix}.group.id`]: kw(),
    [`${prefix}.group.name`]: kw(),
    [`${prefix}.tty.char_device.major`]: long(),
    [`${prefix}.tty.char_device.minor`]: long(),
  };
}

/** `logs-cloud_defend.process-*`: Defend for Containers process events. */
export function cloudDefendProcessMappings(): estypes.MappingTypeMapping {
  const leader = (name: string): Record<string, Prop> => ({
    ...processFields(`process.${name}`),
    [`process.${name}.same_as_process`]: bool(),
  });
  return {
    dynamic_templates: [stringsAsKeyword],
    properties: nest({
      ...ecsCommon,
      ...processFields('process'),
      ...processFields('process.parent'),
      ...leader('session_leader'),
      ...leader('group_leader'),
      ...leader('entry_leader'),
      'process.entry_leader.entry_meta.type': kw(),
      'process.entry_leader.entry_meta.source.ip': ip(),
      'process.end': date(),
      'process.exit_code': long(),
      'container.id': kw(),
      'container.name': kw(),
      'container.runtime': kw(),
      'container.image.name': kw(),
      'container.image.tag': kw(),
      'container.image.hash.all': kw(),
      'container.security_context.privileged': bool(),
      'orchestrator.type': kw(),
      'orchestrator.cluster.name': kw(),
      'orchestrator.cluster.id': kw(),
      'orchestrator.namespace': kw(),
      'orchestrator.resource.name': kw(),
      'orchestrator.resource.type': kw(),
      'orchestrator.resource.ip': ip(),
      'orchestrator.resource.label': kw(),
      'orchestrator.resource.annotation': { type: 'flattened' },
      'cloud_defend.package_policy_id': kw(),
      'cloud_defend.package_policy_revision': long(),
      'cloud_defend.matched_selectors': kw(),
      'cloud_defend.hook_point': kw(),
    }),
  };
}

/**
 * `logs-cloud_defend.file-*`: Defend for Containers file events (the process that touched the file, its
 * container and orchestrator fields, and ECS `file.*`). The scenario generator writes no file events; the fleet
 * benchmark does (bench/lib/fleet-feed.ts).
 */
export function cloudDefendFileMappings(): estypes.MappingTypeMapping {
  const process = cloudDefendProcessMappings();
  return {
    ...process,
    properties: {
      ...process.properties,
      ...nest({
        'file.path': kwText(),
        'file.name': kw(),
        'file.extension': kw(),
        'file.directory': kw(),
        'file.target_path': kwText(),
      }),
    },
  };
}

/** `logs-kubernetes.audit_logs-*`: API server audit events from the Kubernetes integration. */
export function kubernetesAuditMappings(): estypes.MappingTypeMapping {
  return {
    dynamic_templates: [
      {
        'kubernetes.audit.user.extra.*': {
          path_match: 'kubernetes.audit.user.extra.*',
          match_mapping_type: 'string',
          mapping: { type: 'keyword', ignore_above: 1024 },
        },
      },
      {
        'kubernetes.audit.annotations.*': {
          path_match: 'kubernetes.audit.annotations.*',
          match_mapping_type: 'string',
          mapping: { type: 'text' },
        },
      },
      stringsAsKeyword,
    ],
    properties: nest({
      ...ecsCommon,
      'event.agent_id_status': kw(),
      'input.type': kw(),
      'log.file.path': kw(),
      'log.offset': long(),
      'source.ip': ip(),
      'client.ip': ip(),
      'user_agent.original': kwText(),
      'kubernetes.audit.kind': kw(),
      'kubernetes.audit.apiVersion': kw(),
      'kubernetes.audit.level': kw(),
      'kubernetes.audit.auditID': kw(),
      'kubernetes.audit.stage': kw(),
      'kubernetes.audit.requestURI': kw(),
      'kubernetes.audit.verb': kw(),
      'kubernetes.audit.user.username': kw(),
      'kubernetes.audit.user.uid': kw(),
      'kubernetes.audit.user.groups': { type: 'text' },
      'kubernetes.audit.impersonatedUser.username': kw(),
      'kubernetes.audit.sourceIPs': { type: 'text' },
      'kubernetes.audit.userAgent': kw(),
      'kubernetes.audit.objectRef.resource': kw(),
      'kubernetes.audit.objectRef.subresource': kw(),
      'kubernetes.audit.objectRef.namespace': kw(),
      'kubernetes.audit.objectRef.name': kw(),
      'kubernetes.audit.objectRef.apiVersion': kw(),
      'kubernetes.audit.responseStatus.code': { type: 'integer' },
      'kubernetes.audit.responseStatus.status': kw(),
      'kubernetes.audit.responseStatus.reason': kw(),
      'kubernetes.audit.requestReceivedTimestamp': date(),
      'kubernetes.audit.stageTimestamp': date(),
    }),
  };
}

export interface ScenarioTemplate {
  name: string;
  index: string;
  body: estypes.IndicesPutIndexTemplateRequest;
}

/** Data stream namespace rules (Fleet): lower case, no `-`, `\`, `/`, `*`, `?`, `"`, `<`, `>`, `|`, space, `,` or `#`. */
export function checkNamespace(ns: string): string {
  if (!/^[a-z0-9_.]{1,100}$/.test(ns) || ns.startsWith('.') || ns.startsWith('_')) {
    throw new RangeError(`namespace "${ns}" is not a valid data stream namespace (lower-case letters, digits, _ and .)`);
  }
  return ns;
}

/** One composable template per index (`logs-<dataset>-<namespace>`), matching that index name exactly. */
export function scenarioTemplates(namespace = 'default'): ScenarioTemplate[] {
  checkNamespace(namespace);
  const make = (name: string, index: string, mappings: estypes.MappingTypeMapping): ScenarioTemplate => ({
    name,
    index,
    body: {
      name,
      index_patterns: [index],
      priority: TEMPLATE_PRIORITY,
      _meta: { managed_by: MANAGED_BY, description: 'eqlwatch demo/test data shaped like the Elastic integration' },
      template: {
        settings: { number_of_shards: 1, number_of_replicas: 0, 'mapping.total_fields.limit': 2000 },
        mappings: { ...mappings, _meta: { managed_by: MANAGED_BY } },
      },
    },
  });
  return [
    make(`eqlwatch-scenario-cloud_defend.process-${namespace}`, `logs-cloud_defend.process-${namespace}`, cloudDefendProcessMappings()),
    make(`eqlwatch-scenario-kubernetes.audit_logs-${namespace}`, `logs-kubernetes.audit_logs-${namespace}`, kubernetesAuditMappings()),
  ];
}
