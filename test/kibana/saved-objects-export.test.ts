/** The committed Kibana import file is exactly what the code generates, and is importable as written. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALIAS, EXPORT_FILE } from '../../scripts/kibana-export.js';
import { DATA_VIEW_ID, SAVED_SEARCH_ID, savedObjectsNdjson } from '../../src/kibana/saved-objects.js';

interface SavedObject {
  id: string;
  type: string;
  attributes: Record<string, unknown>;
  references: Array<{ id: string; name: string; type: string }>;
}

const committed = readFileSync(EXPORT_FILE, 'utf8');
const objects = committed.trimEnd().split('\n').map((l) => JSON.parse(l) as SavedObject);

describe('kibana/eqlwatch-saved-objects.ndjson', () => {
  it('equals the generated export for the default alerts alias (run "npm run kibana:export" after changing saved-objects.ts)', () => {
    expect(committed).toBe(savedObjectsNdjson(DEFAULT_ALIAS));
  });

  it('holds the data view and the saved search, one JSON object per line', () => {
    expect(objects.map((o) => [o.type, o.id])).toEqual([['index-pattern', DATA_VIEW_ID], ['search', SAVED_SEARCH_ID]]);
  });

  it('has a data view whose pattern covers the alias\'s backing indices', () => {
    const title = objects[0]!.attributes.title as string;
    const re = new RegExp(`^${title.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    expect(re.test(`${DEFAULT_ALIAS}-000001`)).toBe(true);
    expect(re.test(DEFAULT_ALIAS)).toBe(true);
  });

  it('has a saved search whose index reference resolves to the data view in the same file', () => {
    const search = objects[1]!;
    const source = JSON.parse((search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as { indexRefName: string };
    const ref = search.references.find((r) => r.name === source.indexRefName);
    expect(ref).toEqual({ id: DATA_VIEW_ID, name: source.indexRefName, type: 'index-pattern' });
  });
});
