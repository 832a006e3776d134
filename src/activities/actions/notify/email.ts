import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { ApplicationFailure } from '@temporalio/activity';
import { createTransport } from 'nodemailer';
import type { z } from 'zod';
import type { EmailParams, emailChannel } from '../../../domain/actions/notify/email';
import { first } from '../../../domain/must';
import { NON_RETRYABLE, resolveAllowed } from '../../egress';
import { Channel, headline, redacted } from './common';

function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** Plain SMTP is fine on loopback; anywhere else the relay must offer STARTTLS (or be SMTPS on 465). */
export function transportOptions(host: string, port: number) {
  const loopback = isLoopback(host);
  return {
    host,
    port,
    secure: port === 465,
    ignoreTLS: loopback,
    requireTLS: !loopback && port !== 465,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** A stable Message-ID per idempotency key, so a retried send is recognisable as the same message. */
export function messageId(idempotencyKey: string, from: string): string {
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
  return `<${hash}@${from.slice(from.lastIndexOf('@') + 1)}>`;
}

/** A permanent SMTP refusal (5xx) fails the step for good; connection trouble and 4xx are retried. */
function smtpFailure(err: unknown, where: string): Error {
  if (err instanceof Error && 'responseCode' in err && typeof err.responseCode === 'number' && err.responseCode >= 500) {
    return ApplicationFailure.nonRetryable(`SMTP ${where} refused the message: ${err.message}`, NON_RETRYABLE.rejectedByTarget);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** A plain-text email; compensation sends a retraction in the same thread. */
export const email: Channel<EmailParams, z.infer<typeof emailChannel.sent>> = {
  async send(ctx, params, note) {
    const host = params.smtp?.host ?? ctx.smtp.host;
    const port = params.smtp?.port ?? ctx.smtp.port;
    // The relay's name is resolved and every address checked; the connection goes to a checked address.
    const address = first(await resolveAllowed(host, ctx.egress.allowlist), `an address of the SMTP relay ${host}`);
    const from = ctx.smtp.from;
    const details = redacted(ctx, { message: note.text, incident: ctx.incident, stepId: ctx.stepId });
    const text = [
      details.message,
      '',
      `Incident: ${details.incident.title}`,
      `Severity: ${details.incident.severity}`,
      `Source: ${details.incident.source}`,
      `Incident id: ${details.incident.id}`,
      `Step: ${details.stepId}`,
      '',
      '-- sent by AIRE',
    ].join('\n');
    const subject = `${note.retraction ? 'Retracted: ' : ''}${params.subject ?? headline(ctx, false)}`;
    const original = messageId(ctx.idempotencyKey, from);
    const pinned = isIP(host.replace(/^\[(.*)\]$/, '$1')) === 0 ? { host: address.address, tls: { servername: host } } : {};
    const transport = createTransport({ ...transportOptions(host, port), ...pinned });
    try {
      const info = await transport.sendMail({
        from,
        to: params.to,
        subject,
        text,
        messageId: messageId(note.idempotencyKey, from),
        headers: { 'X-Aire-Idempotency-Key': note.idempotencyKey },
        ...(note.retraction ? { inReplyTo: original, references: [original] } : {}),
      });
      return { messageId: info.messageId, accepted: info.accepted };
    } catch (err) {
      throw smtpFailure(err, `${host}:${port}`);
    } finally {
      transport.close();
    }
  },
};
