import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { signBody } from '../domain/signing';
import type { INTAKE_SOURCES } from '../domain/tenant-settings';
import { defined } from '../domain/must';
import { principalOf } from './auth';
import type { Deps } from './deps';
import { settingsForIntake } from './services/settings';
import { HttpProblem } from './problem';

/** How far a signature's timestamp may be from now before the request is refused as stale (replay). */
export const SIGNATURE_TOLERANCE_S = 300;

const rawBodies = new WeakMap<IncomingMessage, Buffer>();

/** express.json's `verify` hook: keeps the bytes as received, since a signature covers them, not the parsed JSON. */
export function keepRawBody(req: IncomingMessage, _res: unknown, buffer: Buffer): void {
  rawBodies.set(req, buffer);
}

const unauthorized = (detail: string): HttpProblem => new HttpProblem(401, 'Unauthorized', detail);

/**
 * When the tenant configured a signing secret for this intake route, the request must carry
 * `x-aire-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, made within the
 * last five minutes. The same scheme AIRE signs its own webhooks with.
 */
export function requireSignature(deps: Deps, source: (typeof INTAKE_SOURCES)[number]): RequestHandler {
  return async (req, res, next) => {
    const secret = (await settingsForIntake(deps, principalOf(res).tenantId)).intake.signingSecrets[source];
    if (!secret) return next();
    const [, t, v1] = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(req.get('x-aire-signature') ?? '') ?? [];
    if (t === undefined || v1 === undefined)
      throw unauthorized('this intake requires a signature: x-aire-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">');
    const timestamp = Number(t);
    if (Math.abs(Date.now() / 1000 - timestamp) > SIGNATURE_TOLERANCE_S)
      throw unauthorized(`the signature is stale (more than ${SIGNATURE_TOLERANCE_S} s old)`);
    const expected = defined(
      signBody(secret, (rawBodies.get(req) ?? Buffer.alloc(0)).toString('utf8'), timestamp).split('v1=')[1],
      'the v1= part of the expected signature',
    );
    if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(v1, 'hex'))) throw unauthorized('the signature does not match the body');
    next();
  };
}
