import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Breaker, BreakerResetDone } from '../api/routes/breakers';
import type { Control } from '../api/routes/controls';
import type { IncidentDetails, IncidentPage, MessageAnswerBody } from '../api/routes/incidents';
import type { CreatedKey, Key, RevokedKey } from '../api/routes/keys';
import type { RuleView } from '../api/routes/rules';
import type { DryRunPlan, RunbookVersionView, RunbookView } from '../api/routes/runbooks';
import type { NoteView, TimelineView } from '../api/routes/timeline';
import type { FieldError } from '../domain/validation';

/**
 * The HTTP client behind the `aire` API commands: one fetch per request, API errors turned into
 * typed errors whose exit code tells a script what happened (see EXIT).
 */

/** Exit codes of every `aire` command. */
export const EXIT = {
  ok: 0,
  /** Usage error or a local problem: bad option, unreadable or malformed file. */
  usage: 1,
  /** The API refused the request (4xx). */
  refused: 2,
  /** The API or a service behind it is unavailable (5xx, connection refused, timeout). */
  unavailable: 3,
} as const;

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** A problem+json answer (RFC 9457) as the API sends it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
}

/** A local problem (bad file, bad setting): exit code 1. */
export class LocalError extends Error {
  readonly exitCode: number = EXIT.usage;
}

/** The API answered with an error status: 4xx exits 2, 5xx exits 3. */
export class ApiError extends Error {
  readonly exitCode: number;
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
    /** The body as received, printed verbatim with --json. */
    readonly text: string,
    readonly request: string,
  ) {
    super(problem?.title ? `${status} ${problem.title}` : `HTTP ${status}`);
    this.exitCode = status >= 500 ? EXIT.unavailable : EXIT.refused;
  }
}

/** A 404 worked out from an answer (e.g. a runbook version missing from its history), reported like the API's own. */
export function notFoundError(request: string, detail: string): ApiError {
  const problem: Problem = { type: '/problems/not-found', title: 'Not Found', status: 404, detail };
  return new ApiError(404, problem, JSON.stringify(problem), request);
}

/** The API could not be reached, or did not answer in time: exit code 3. */
export class UnavailableError extends Error {
  readonly exitCode: number = EXIT.unavailable;
}

/** The exit code for any error a command throws. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof ApiError || err instanceof UnavailableError || err instanceof LocalError) return err.exitCode;
  return EXIT.usage;
}

// ---- answers ----
// The types of the API's answers are inferred from the response schemas next to each route
// (src/api/routes/*.ts), the same schemas the OpenAPI document is built from.

export type { Control } from '../api/routes/controls';
export type { ApprovalRow, Incident, IncidentDetails as IncidentDetail, LogRow, StepRow } from '../api/routes/incidents';
export type { RuleView } from '../api/routes/rules';
export type { DryRunPlan as DryRun, DryRunStep, RunbookVersionView, RunbookView } from '../api/routes/runbooks';
export type BreakerView = Breaker;
export type ApiKeyView = Key;
/** What a message to an incident's workflow answers (approve, reject, acknowledge, rollback, resolve, close). */
export type Accepted = MessageAnswerBody;

/** A list answer: `items`, and with keyset pagination `nextCursor`. */
export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

export interface Answer<T> {
  status: number;
  body: T;
  text: string;
}

export interface ClientOptions {
  baseUrl: string;
  apiKey?: string;
  timeoutMs?: number;
}

type Query = Record<string, string | number | undefined>;

export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey?: string;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    this.baseUrl = normaliseBaseUrl(options.baseUrl);
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<Answer<T>> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const what = `${method} ${url.pathname}`;

    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new UnavailableError(`cannot reach the API at ${this.baseUrl} (${what}): ${describeFetchError(err, this.timeoutMs)}`);
    }
    if (!res.ok) throw new ApiError(res.status, parseProblem(text), text, what);
    let body: T;
    try {
      body = (text === '' ? {} : JSON.parse(text)) as T;
    } catch {
      throw new UnavailableError(`the API at ${this.baseUrl} answered ${what} with something that is not JSON: ${text.slice(0, 200)}`);
    }
    return { status: res.status, body, text };
  }

  listIncidents(filter: { status?: string; severity?: string; source?: string; limit?: number; cursor?: string }): Promise<Answer<IncidentPage>> {
    return this.request('GET', '/api/incidents', { query: filter });
  }

  getIncident(id: string): Promise<Answer<IncidentDetails>> {
    return this.request('GET', `/api/incidents/${encodeURIComponent(id)}`);
  }

  addNote(id: string, body: { text: string; key?: boolean }): Promise<Answer<NoteView>> {
    return this.request('POST', `/api/incidents/${encodeURIComponent(id)}/notes`, { body });
  }

  timeline(id: string): Promise<Answer<TimelineView>> {
    return this.request('GET', `/api/incidents/${encodeURIComponent(id)}/timeline`);
  }

  /** approve, reject, acknowledge, rollback, resolve, close. */
  signalIncident(id: string, action: string, body: { reason?: string; stepId?: string }): Promise<Answer<MessageAnswerBody>> {
    return this.request('POST', `/api/incidents/${encodeURIComponent(id)}/${action}`, { body });
  }

  /** Incident command: PATCH the incident, or POST to its roles, status-updates or runbooks. */
  commandIncident(
    id: string,
    method: 'PATCH' | 'POST',
    path: '' | '/roles' | '/status-updates' | '/runbooks',
    body: object,
  ): Promise<Answer<MessageAnswerBody>> {
    return this.request(method, `/api/incidents/${encodeURIComponent(id)}${path}`, { body });
  }

  listRunbooks(): Promise<Answer<Page<RunbookView>>> {
    return this.request('GET', '/api/runbooks');
  }

  getRunbook(id: string): Promise<Answer<RunbookView>> {
    return this.request('GET', `/api/runbooks/${encodeURIComponent(id)}`);
  }

  runbookVersions(id: string): Promise<Answer<Page<RunbookVersionView>>> {
    return this.request('GET', `/api/runbooks/${encodeURIComponent(id)}/versions`);
  }

  testRunbook(id: string, body: { incident: unknown; version?: number }): Promise<Answer<DryRunPlan>> {
    return this.request('POST', `/api/runbooks/${encodeURIComponent(id)}/test`, { body });
  }

  putRunbook(id: string, definition: unknown): Promise<Answer<RunbookView>> {
    return this.request('PUT', `/api/runbooks/${encodeURIComponent(id)}`, { body: definition });
  }

  listControls(kind?: string): Promise<Answer<Page<Control>>> {
    return this.request('GET', '/api/controls', { query: { kind } });
  }

  createKey(body: { name: string; roles: string[] }): Promise<Answer<CreatedKey>> {
    return this.request('POST', '/api/keys', { body });
  }

  listKeys(): Promise<Answer<Page<Key>>> {
    return this.request('GET', '/api/keys');
  }

  listBreakers(all: boolean): Promise<Answer<Page<Breaker>>> {
    return this.request('GET', '/api/breakers', { query: { all: all ? 'true' : undefined } });
  }

  resetBreaker(body: { service: string; runbookId?: string; reason?: string }): Promise<Answer<BreakerResetDone>> {
    return this.request('POST', '/api/breakers/reset', { body });
  }

  revokeKey(id: string): Promise<Answer<RevokedKey>> {
    return this.request('DELETE', `/api/keys/${encodeURIComponent(id)}`);
  }

  listRules(): Promise<Answer<Page<RuleView>>> {
    return this.request('GET', '/api/rules');
  }

  getRule(id: string): Promise<Answer<RuleView>> {
    return this.request('GET', `/api/rules/${encodeURIComponent(id)}`);
  }

  putRule(id: string, definition: unknown): Promise<Answer<RuleView & { warnings: string[] }>> {
    return this.request('PUT', `/api/rules/${encodeURIComponent(id)}`, { body: definition });
  }

  disableRule(id: string): Promise<Answer<RuleView>> {
    return this.request('DELETE', `/api/rules/${encodeURIComponent(id)}`);
  }
}

/** `http://host:8080/`, `http://host:8080/api` and `http://host:8080` all name the same server. */
export function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new LocalError(`the API URL "${raw}" is not a URL (expected e.g. ${DEFAULT_API_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new LocalError(`the API URL "${raw}" must start with http:// or https://`);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  return `${url.origin}${path}`;
}

function parseProblem(text: string): Problem | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  return e?.cause?.message ?? e?.cause?.code ?? e?.message ?? String(err);
}

// ---- where the API is and which key to use ----

export interface ConnectionOptions {
  apiUrl?: string;
  apiKey?: string;
  timeout?: number;
}

/** Where the quick start keeps its admin key, relative to the directory `aire` runs in or to this checkout. */
export const ADMIN_KEY_FILE = join('.aire', 'admin.key');

function defaultKey(cwd: string): string | undefined {
  for (const file of [resolve(cwd, ADMIN_KEY_FILE), resolve(__dirname, '..', '..', ADMIN_KEY_FILE)]) {
    if (!existsSync(file)) continue;
    try {
      const key = readFileSync(file, 'utf8').trim();
      if (key) return key;
    } catch {
      // unreadable: go on without it; the API will say 401
    }
  }
  return undefined;
}

/** --api-url / --api-key first, then AIRE_API_URL / AIRE_API_KEY, then the defaults. */
export function clientFrom(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): ApiClient {
  const baseUrl = options.apiUrl || env.AIRE_API_URL || DEFAULT_API_URL;
  const apiKey = options.apiKey || env.AIRE_API_KEY || defaultKey(cwd);
  return new ApiClient({ baseUrl, apiKey, timeoutMs: options.timeout });
}
