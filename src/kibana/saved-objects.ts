/**
 * The Kibana objects that make eqlwatch alerts browsable: a data view over the alerts alias and a saved
 * search with the columns an analyst wants first. Pure; `setup.ts` sends them, and
 * `kibana/eqlwatch-saved-objects.ndjson` is the same objects for manual import (npm run kibana:export).
 */
export const DATA_VIEW_ID = 'eqlwatch-alerts';
export const SAVED_SEARCH_ID = 'eqlwatch-open-alerts';

export const ALERT_COLUMNS = [
  'kibana.alert.rule.name',
  'kibana.alert.severity',
  'kibana.alert.reason',
  'host.name',
  'orchestrator.resource.name',
  'container.name',
  'user.name',
  'process.command_line',
  'kibana.alert.workflow_status',
];

export function dataViewSpec(alertsAlias: string) {
  return {
    id: DATA_VIEW_ID,
    title: `${alertsAlias}*`,
    name: 'eqlwatch alerts',
    timeFieldName: '@timestamp',
    allowNoIndex: true,
  };
}

export function savedSearchAttributes() {
  return {
    title: 'eqlwatch: open alerts',
    description: 'Alerts written by eqlwatch that are still open, newest first (building blocks hidden).',
    columns: ALERT_COLUMNS,
    sort: [['@timestamp', 'desc']],
    kibanaSavedObjectMeta: {
      searchSourceJSON: JSON.stringify({
        query: {
          query: 'kibana.alert.workflow_status : "open" and not kibana.alert.building_block_type : *',
          language: 'kuery',
        },
        filter: [],
        indexRefName: 'kibanaSavedObjectMeta.searchSourceJSON.index',
      }),
    },
  };
}

/** Saved-objects NDJSON (export format) of the data view and the saved search. */
export function savedObjectsNdjson(alertsAlias: string): string {
  const dv = dataViewSpec(alertsAlias);
  const objects = [
    {
      id: dv.id,
      type: 'index-pattern',
      attributes: { title: dv.title, name: dv.name, timeFieldName: dv.timeFieldName, allowNoIndex: true },
      references: [],
    },
    {
      id: SAVED_SEARCH_ID,
      type: 'search',
      attributes: savedSearchAttributes(),
      references: [{ id: dv.id, name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern' }],
    },
  ];
  return `${objects.map((o) => JSON.stringify(o)).join('\n')}\n`;
}
