/**
 * Runbook parameter templates: `{{incident.context.commit_sha}}`, `{{steps.scale.output.previous}}`.
 * Deliberately tiny: paths only, no expressions, no filters. A missing value is an error, never an
 * empty string, because a blank sent to a production system is worse than a step that fails.
 */

const TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE_TEMPLATE = /^\{\{\s*([^{}]*?)\s*\}\}$/;
const PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;

export const TEMPLATE_ROOTS = ['incident', 'steps'] as const;

export class TemplateError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'TemplateError';
  }
}

export interface TemplateReference {
  /** Where in the params the reference stands, e.g. `params.url`. */
  at: string;
  /** The same place as path segments, for error paths: `['params', 'headers', 0]`. */
  segments: (string | number)[];
  /** The dotted path inside the braces, e.g. `incident.context.commit_sha`. */
  path: string;
}

export function isTemplated(value: unknown): boolean {
  return typeof value === 'string' && /\{\{[^{}]*\}\}/.test(value);
}

function childPath(at: string, key: string | number): string {
  return typeof key === 'number' ? `${at}[${key}]` : `${at}.${key}`;
}

/** Every template reference inside a JSON value, with where it stands. */
export function findReferences(value: unknown, at: string, segments: (string | number)[] = [at]): TemplateReference[] {
  if (typeof value === 'string') {
    return [...value.matchAll(TEMPLATE)].map((m) => {
      const path = m[1];
      if (path === undefined) throw new Error(`${at}: a template reference without its path`);
      return { at, segments, path };
    });
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findReferences(v, childPath(at, i), [...segments, i]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => findReferences(v, childPath(at, k), [...segments, k]));
  }
  return [];
}

/** Checks a reference's shape; `earlierSteps` are the step ids whose outputs exist by then. */
export function checkReference(ref: Pick<TemplateReference, 'at' | 'path'>, earlierSteps: ReadonlySet<string>): string | undefined {
  if (!PATH.test(ref.path)) return `"{{${ref.path}}}" is not a valid reference: use a dotted path like incident.context.host`;
  const [root, second, third] = ref.path.split('.');
  if (root === undefined || !(TEMPLATE_ROOTS as readonly string[]).includes(root)) {
    return `"{{${ref.path}}}" must start with incident. or steps.`;
  }
  if (root === 'incident' && second === undefined) return `"{{${ref.path}}}" names the whole incident: name a field`;
  if (root === 'steps') {
    if (second === undefined || !earlierSteps.has(second)) {
      return `"{{${ref.path}}}" refers to step "${second ?? ''}", which does not run before this one`;
    }
    if (third !== 'output') return `"{{${ref.path}}}" must read a step's output: steps.${second}.output.…`;
  }
  return undefined;
}

function lookup(scope: Record<string, unknown>, path: string): unknown {
  let current: unknown = scope;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, key)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A parameter whose name ends in `url` (`url`, `pushUrl`, `healthUrl`…), written as an http(s) URL. */
const URL_FIELD = /(^|\.)[A-Za-z0-9_]*url$/i;
const HTTP_URL = /^https?:\/\//i;
/** What a value placed in a URL's host part may not contain: it would move the request elsewhere. */
const AUTHORITY_BREAKERS = /[/\\?#@\s\u0000-\u001f\u007f]/;

/**
 * Where the host part of an http(s) URL template ends: templates before it are in the host (and
 * port), templates after it in the path, query or fragment.
 */
function authorityEnd(text: string): number {
  const start = text.indexOf('//') + 2;
  const rest = text.slice(start).search(/[/?#]/);
  return rest < 0 ? text.length : start + rest;
}

/**
 * A value placed inside a URL template (`http://api/services/{{incident.context.service}}/scale`)
 * stays inside the part it was placed in, so incident data cannot redirect the call:
 * - in the host part, anything that would end the host (`/`, `?`, `#`, `@`, `\`, spaces) is refused;
 *   the host it names is then judged by the egress allowlist;
 * - in the path, `/` and `\` (a new segment, `../../etc/passwd`) and `.` or `..` (which no encoding
 *   neutralises) are refused, and the rest is percent-encoded;
 * - in the query or fragment, the value is percent-encoded, so `&`, `=`, `#` cannot add parameters.
 */
function urlPart(text: string, offset: number, value: string, path: string, at: string): string {
  const hostEnd = authorityEnd(text);
  if (offset < hostEnd) {
    if (AUTHORITY_BREAKERS.test(value)) {
      throw new TemplateError(at, `{{${path}}} would change where the URL points: a value in its host part may not contain /, ?, #, @, \\ or spaces`);
    }
    return value;
  }
  const queryStart = text.slice(hostEnd).search(/[?#]/);
  const inPath = queryStart < 0 || offset < hostEnd + queryStart;
  if (inPath && (/[/\\]/.test(value) || value === '.' || value === '..')) {
    throw new TemplateError(at, `{{${path}}} would change the URL's path: a value placed in a path segment may not contain / or \\, nor be . or ..`);
  }
  try {
    return encodeURIComponent(value);
  } catch {
    throw new TemplateError(at, `{{${path}}} is not valid Unicode (a lone surrogate) and cannot be placed in a URL`);
  }
}

function renderString(text: string, scope: Record<string, unknown>, at: string): unknown {
  const wholePath = WHOLE_TEMPLATE.exec(text)?.[1];
  if (wholePath !== undefined) {
    // A value that is one template keeps its type, so `replicas: "{{incident.context.replicas}}"` stays a number.
    const value = lookup(scope, wholePath);
    if (value === undefined || value === null) throw new TemplateError(at, `{{${wholePath}}} has no value`);
    return value;
  }
  const inUrl = URL_FIELD.test(at) && HTTP_URL.test(text);
  return text.replace(TEMPLATE, (_match, path: string, offset: number) => {
    const value = lookup(scope, path);
    if (value === undefined || value === null) throw new TemplateError(at, `{{${path}}} has no value`);
    const shown = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return inUrl ? urlPart(text, offset, shown, path, at) : shown;
  });
}

/** Renders every template in a JSON value; throws TemplateError naming the first missing value. */
export function render(value: unknown, scope: Record<string, unknown>, at: string): unknown {
  if (typeof value === 'string') return renderString(value, scope, at);
  if (Array.isArray(value)) return value.map((v, i) => render(v, scope, childPath(at, i)));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, scope, childPath(at, k))]));
  }
  return value;
}
