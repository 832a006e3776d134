/**
 * What the code knows is there, said so (noUncheckedIndexedAccess): the row a query always
 * returns, a regex group that always takes part in its match, the element at an index just
 * checked. A wrong assumption fails here, with an Error naming what was missing, not later with a
 * TypeError on `undefined` (or, worse, an `undefined` passed on).
 *
 * Not for the workflow bundle: src/workflows and the schema-free modules it imports (gates,
 * routing, severity-scale, template) may not import this (test/unit/workflow-bundle.test.ts), so
 * they check inline.
 */

/** `value`, or an Error naming `what` when it is undefined. */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what}, found none`);
  return value;
}

/** The first item, or an Error naming `what` when there is none (e.g. the row of an INSERT … RETURNING). */
export function first<T>(items: readonly T[], what: string): T {
  return defined(items[0], what);
}
