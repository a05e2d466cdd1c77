// Three-valued logic for predicting a rule: true, false, or unknown (a field that depends on something
// meshprobe does not know, such as a pod IP). Kleene's rules: false decides an AND, true decides an OR,
// so an unknown field only matters when nothing else in its rule settles the answer.

export type Tri = boolean | undefined;

export function and(values: Iterable<Tri>): Tri {
  let unknown = false;
  for (const v of values) {
    if (v === false) return false;
    if (v === undefined) unknown = true;
  }
  return unknown ? undefined : true;
}

export function or(values: Iterable<Tri>): Tri {
  let unknown = false;
  for (const v of values) {
    if (v === true) return true;
    if (v === undefined) unknown = true;
  }
  return unknown ? undefined : false;
}

export const not = (v: Tri): Tri => (v === undefined ? undefined : !v);
