import type { NextFunction, Request, Response } from 'express';
import { parse as parseYaml } from 'yaml';
import { FieldError, ValidationError, formatPath } from '../domain/validation';

/**
 * Input that every schema would let through but that breaks what comes after it, refused up front
 * (400, with the path of each) in every JSON body, YAML body (runbooks, rules) and query string:
 *
 * - nesting deeper than MAX_INPUT_DEPTH: JSON.parse copes with 100,000 levels, but JSON.stringify
 *   (Temporal payloads, pg parameters, answers) overflows the stack at a few thousand, and every
 *   recursive walk (templates, redaction) costs time and memory per level;
 * - the NUL character: PostgreSQL text and jsonb cannot store it, so a title with one was accepted
 *   by the API and then failed the workflow's first write forever;
 * - lone UTF-16 surrogates (`"\ud800"`): jsonb refuses them too;
 * - the key `__proto__`: an object whose own key is `__proto__` turns into a prototype change as
 *   soon as code copies it with assignment.
 */

/** Objects and arrays may nest this deep in a request; real payloads stay far below. */
export const MAX_INPUT_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Stop after this many problems: a hostile body could otherwise produce one per value. */
const MAX_PROBLEMS = 20;

function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains the NUL character (\\u0000), which cannot be stored';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (e.g. \\ud800), which is not valid Unicode';
  return undefined;
}

/**
 * What is wrong with a parsed JSON (or YAML) value, by path. Iterative, so a 100,000-level value
 * cannot overflow the stack while being checked; stops at the first level past the limit.
 */
export function hostileInputErrors(value: unknown, root: ReadonlyArray<PropertyKey> = []): FieldError[] {
  const errors: FieldError[] = [];
  const stack: { value: unknown; path: PropertyKey[]; depth: number }[] = [{ value, path: [...root], depth: 0 }];
  while (stack.length > 0 && errors.length < MAX_PROBLEMS) {
    const item = stack.pop() as { value: unknown; path: PropertyKey[]; depth: number };
    const v = item.value;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) errors.push({ path: formatPath(item.path), message: problem });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (item.depth >= MAX_INPUT_DEPTH) {
      errors.push({ path: formatPath(item.path), message: `nested more than ${MAX_INPUT_DEPTH} levels deep` });
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...item.path, i], depth: item.depth + 1 });
      continue;
    }
    for (const key of Object.keys(v)) {
      const keyProblem = key === '__proto__' ? 'the key "__proto__" is not allowed' : textProblem(key);
      if (keyProblem) {
        // The path shows the key with the offending characters replaced, so the answer is valid JSON text.
        const shown = key.replace(/[\u0000\uD800-\uDFFF]/g, '\uFFFD');
        errors.push({ path: formatPath([...item.path, shown]), message: key === '__proto__' ? keyProblem : `the key ${keyProblem}` });
        continue;
      }
      stack.push({ value: (v as Record<string, unknown>)[key], path: [...item.path, key], depth: item.depth + 1 });
    }
  }
  return errors;
}

/** Throws a ValidationError (400) naming each hostile value of `value`. */
export function assertNoHostileInput(value: unknown, what: string, root: ReadonlyArray<PropertyKey> = []): void {
  const errors = hostileInputErrors(value, root);
  if (errors.length > 0) throw new ValidationError(`invalid ${what}`, errors);
}

/** What a YAML body (runbooks, rules) holds, or undefined when it is not YAML the routes could read (they report that). */
function yamlValue(text: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 50 });
  } catch {
    return undefined;
  }
}

/**
 * Express middleware, after the body parsers: checks the JSON body, a YAML body (parsed here as
 * the routes parse it, which they then do again) and the query string.
 */
export function rejectHostileInput(req: Request, _res: Response, next: NextFunction): void {
  assertNoHostileInput(typeof req.body === 'string' ? yamlValue(req.body) : req.body, 'request body');
  assertNoHostileInput(req.query, 'query', ['query']);
  next();
}
