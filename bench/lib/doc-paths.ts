/**
 * Dotted field paths in event documents as Elasticsearch reads them: nested objects, literal dotted keys (e.g.
 * `authentication.kubernetes.io/pod-name` under `kubernetes.audit.user.extra`), arrays flattened. Pure.
 */
type Doc = Record<string, unknown>;

/** Every value at a dotted path (nested objects or literal dotted keys, arrays flattened). */
export function values(doc: unknown, path: string): unknown[] {
  if (doc === null || typeof doc !== 'object') return [];
  if (Array.isArray(doc)) return doc.flatMap((d) => values(d, path));
  const o = doc as Doc;
  if (path in o) {
    const v = o[path];
    return v === undefined || v === null ? [] : Array.isArray(v) ? v.flat(Infinity) : [v];
  }
  const parts = path.split('.');
  for (let k = parts.length - 1; k > 0; k--) {
    const head = parts.slice(0, k).join('.');
    if (head in o) return values(o[head], parts.slice(k).join('.'));
  }
  return [];
}

export function getPath(doc: Doc, path: string): unknown {
  const v = values(doc, path);
  return v.length === 0 ? undefined : lookup(doc, path);
}

function lookup(doc: Doc, path: string): unknown {
  if (path in doc) return doc[path];
  const parts = path.split('.');
  for (let k = parts.length - 1; k > 0; k--) {
    const head = parts.slice(0, k).join('.');
    const sub = doc[head];
    if (sub && typeof sub === 'object' && !Array.isArray(sub)) return lookup(sub as Doc, parts.slice(k).join('.'));
  }
  return undefined;
}

/**
 * Sets a dotted path, following existing literal dotted keys (e.g. `authentication.kubernetes.io/pod-name`
 * under `kubernetes.audit.user.extra`) and creating nested objects otherwise; `undefined` deletes.
 */
export function setPath(doc: Doc, path: string, value: unknown): void {
  if (path in doc) {
    if (value === undefined) delete doc[path];
    else doc[path] = value;
    return;
  }
  const parts = path.split('.');
  for (let k = parts.length - 1; k > 0; k--) {
    const head = parts.slice(0, k).join('.');
    const sub = doc[head];
    if (sub && typeof sub === 'object' && !Array.isArray(sub)) {
      setPath(sub as Doc, parts.slice(k).join('.'), value);
      return;
    }
  }
  if (value === undefined) return;
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    cur = (next && typeof next === 'object' && !Array.isArray(next) ? next : (cur[p] = {})) as Doc;
  }
  cur[parts[parts.length - 1]!] = value;
}
