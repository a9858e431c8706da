/** What changed between two states of an object: fields added, removed and changed (old and new value). */
export interface FieldDiff {
  added: Record<string, unknown>;
  removed: Record<string, unknown>;
  changed: Record<string, { from: unknown; to: unknown }>;
}

/** Compare two flat objects field by field (values compared as JSON); `null` stands for "no object". */
export function diffObjects(before: Record<string, unknown> | null, after: Record<string, unknown> | null): FieldDiff {
  const diff: FieldDiff = { added: {}, removed: {}, changed: {} };
  const a = before ?? {};
  const b = after ?? {};
  const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (!has(a, key)) diff.added[key] = b[key];
    else if (!has(b, key)) diff.removed[key] = a[key];
    else if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) diff.changed[key] = { from: a[key], to: b[key] };
  }
  return diff;
}
