/** Reads a dotted ECS path from a document stored nested, with dotted keys, or mixed (like lodash getOr). */
export function getPath(doc: unknown, path: string): unknown {
  if (doc === null || typeof doc !== 'object') return undefined;
  const obj = doc as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(obj, path)) return obj[path];
  let dot = path.indexOf('.');
  while (dot > 0) {
    const head = path.slice(0, dot);
    if (Object.prototype.hasOwnProperty.call(obj, head)) {
      const found = getPath(obj[head], path.slice(dot + 1));
      if (found !== undefined) return found;
    }
    dot = path.indexOf('.', dot + 1);
  }
  return undefined;
}

/** The non-empty string values at a path (arrays flattened), for display. */
export function stringsAt(doc: unknown, path: string): string[] {
  const v = getPath(doc, path);
  const out: string[] = [];
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(visit);
    else if (typeof x === 'string' && x !== '' && x !== '-') out.push(x);
    else if (typeof x === 'number' || typeof x === 'boolean') out.push(String(x));
  };
  visit(v);
  return out;
}
