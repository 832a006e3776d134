import { redact, redactText } from '../../../domain/redact';
import type { ActionContext } from '../types';

/** One delivery: the notification itself or, on compensation, its retraction. */
export interface Note {
  retraction: boolean;
  /** What to say, redacted: the message, or "Retracted after rollback: <message>". */
  text: string;
  /** The notification's key, or `<key>:compensate` for the retraction. */
  idempotencyKey: string;
}

export function noteFor(ctx: ActionContext, message: string, retraction: boolean): Note {
  return {
    retraction,
    text: redactText(retraction ? `Retracted after rollback: ${message}` : message, ctx.sensitiveKeys),
    idempotencyKey: retraction ? `${ctx.idempotencyKey}:compensate` : ctx.idempotencyKey,
  };
}

/**
 * A channel of `notify`: how one delivery goes out, and what it answers (`S`, the channel's part of
 * the output in src/domain/actions/notify). What its compensation will do is said there too.
 */
export interface Channel<P, S> {
  send(ctx: ActionContext, params: P, note: Note): Promise<S>;
}

/** `redact` with the configured extra keys: every body leaves through this. */
export function redacted<T>(ctx: ActionContext, value: T): T {
  return redact(value, ctx.sensitiveKeys);
}

/** `[HIGH] Checkout is down`, prefixed `Retracted: ` for a retraction. */
export function headline(ctx: ActionContext, retraction: boolean): string {
  return `${retraction ? 'Retracted: ' : ''}[${ctx.incident.severity.toUpperCase()}] ${ctx.incident.title}`;
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
