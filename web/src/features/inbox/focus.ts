// Where focus goes after an action on a row: the row itself while it is still shown,
// else the one that took its place (the next, or the previous at the end), else nothing.

export function focusAfter(before: number[], after: number[], id: number): number | null {
  if (after.includes(id)) return id;
  const at = before.indexOf(id);
  if (at === -1) return after[0] ?? null;
  const remaining = new Set(after);
  for (const candidate of before.slice(at + 1)) if (remaining.has(candidate)) return candidate;
  for (const candidate of before.slice(0, at).reverse()) {
    if (remaining.has(candidate)) return candidate;
  }
  return null;
}
