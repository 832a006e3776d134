import pretty from 'pino-pretty';

/**
 * The human-readable log format (AIRE_LOG_FORMAT=pretty, what `npm run dev` uses): one coloured
 * line per entry, `time LEVEL: component message incident=… step=… key=value …`. AIRE's own fields
 * are all there, flattened to key=value pairs; the incident and the step come first, because those
 * are what one looks for in a terminal. Left out: the Temporal SDK's bookkeeping (run ids, task
 * tokens) and all but the first frame of a stack trace, so that an entry stays one line without
 * braces. The JSON format keeps everything.
 */

/** Written by pino or by the message line itself; the rest are the entry's own fields. */
const SHOWN_ELSEWHERE = new Set(['level', 'time', 'msg', 'component', 'incidentId', 'stepId', 'pid', 'hostname']);
/** Temporal SDK fields that say nothing a reader of one dev server needs (the JSON format keeps them). */
const SDK_NOISE = new Set(['sdk', 'sdkComponent', 'namespace', 'taskQueue', 'runId', 'workflowRunId', 'taskToken', 'isLocal', 'activityId']);
const MAX_VALUE = 300;

/** colorette's functions, as pino-pretty hands them over (no-ops when colour is off). */
type Colors = Parameters<pretty.MessageFormatFunc>[3]['colors'];

function scalar(value: unknown): string {
  if (typeof value === 'string') {
    const short = value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE)}…` : value;
    return /^[^\s"=]+$/.test(short) ? short : JSON.stringify(short);
  }
  return String(value);
}

/** `{ a: { b: 1 }, c: [1, 2] }` → `a.b=1 c=1,2`: nested values as dotted keys, never as JSON. */
function flatten(prefix: string, value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) out.push(`${prefix}=${value.map(scalar).join(',')}`);
    else value.forEach((v, i) => flatten(`${prefix}.${i}`, v, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
  } else if (value !== undefined) {
    out.push(`${prefix}=${scalar(value)}`);
  }
}

/** pino's error serialiser gives { type, message, stack }: keep the message and the frame it came from. */
function errorField(key: string, err: Record<string, unknown>, colors: Colors): string {
  const firstFrame = typeof err.stack === 'string' ? (/\n\s+(at .*)/.exec(err.stack)?.[1] ?? '') : '';
  const text = `${typeof err.type === 'string' ? `${err.type}: ` : ''}${typeof err.message === 'string' ? err.message : ''}`;
  return colors.red(`${key}=${scalar(text)}${firstFrame ? ` (${firstFrame})` : ''}`);
}

export function formatLine(log: Record<string, unknown>, colors: Colors): string {
  const parts: string[] = [];
  if (typeof log.component === 'string') parts.push(colors.cyan(log.component));
  parts.push(colors.bold(typeof log.msg === 'string' ? log.msg : ''));
  if (log.incidentId !== undefined) parts.push(colors.magenta(`incident=${scalar(log.incidentId)}`));
  if (log.stepId !== undefined) parts.push(colors.yellow(`step=${scalar(log.stepId)}`));
  const rest: string[] = [];
  for (const [key, value] of Object.entries(log)) {
    if (SHOWN_ELSEWHERE.has(key) || (log.sdk === true && SDK_NOISE.has(key))) continue;
    if ((key === 'err' || key === 'error') && value !== null && typeof value === 'object' && 'message' in value) {
      parts.push(errorField(key, value, colors));
      continue;
    }
    flatten(key, value, rest);
  }
  if (rest.length > 0) parts.push(colors.dim(rest.join(' ')));
  // A message may itself span lines (an SDK error, a stack in a string): keep the entry on one.
  return parts.join(' ').replace(/\r?\n\s*/g, ' ⏎ ');
}

/** The stream pino writes to in pretty mode: synchronous, so nothing is lost when a dev process exits. */
export function prettyStream(): pretty.PrettyStream {
  return pretty({
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    hideObject: true,
    messageFormat: (log, _messageKey, _levelLabel, { colors }) => formatLine(log, colors),
  });
}
