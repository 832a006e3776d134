import express, { NextFunction, Request, Response, Router } from 'express';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import { EncryptionCodec } from '../../temporal/payload-codec';
import { requireKey, requireRole } from '../auth';
import { rejectHostileInput } from '../hostile-input';
import type { Deps } from '../deps';
import { HttpProblem } from '../problem';
import { body } from '../validate';

/**
 * The codec endpoint Temporal's Web UI and CLI call to show encrypted payloads readably
 * (`temporal workflow show --codec-endpoint http://HOST:PORT/api/codec --codec-auth "Bearer KEY"`,
 * and the Web UI's "Data Encoder" setting). The protocol is Temporal's: POST `/encode` and
 * `/decode` with `{payloads: [...]}` in protobuf JSON (metadata values and data in base64).
 *
 * Decoding shows a history as it was written (step parameters unredacted, any tenant's), so it
 * needs an `admin` key, like the Web UI access it goes with.
 */
const Base64Schema = z
  .string()
  .max(4_000_000)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
export const CodecPayloadsSchema = z
  .object({
    payloads: z.array(z.object({ metadata: z.record(z.string(), Base64Schema).optional(), data: Base64Schema.optional() })).max(1_000),
  })
  .strict();
type JsonPayload = z.infer<typeof CodecPayloadsSchema>['payloads'][number];

const fromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});

const toJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(data ?? []).toString('base64'),
});

/** The browser asks first (a preflight) whether the Web UI's origin may send its key here. */
function allowOrigins(origins: readonly string[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.get('origin');
    if (origin && origins.includes(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Headers': 'authorization, content-type, x-namespace',
        'Access-Control-Allow-Methods': 'POST',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') {
      res.sendStatus(204);
      return;
    }
    next();
  };
}

export function codecRoutes(deps: Deps): Router {
  const router = Router();
  const codec = deps.config.AIRE_PAYLOAD_KEYS.length > 0 ? new EncryptionCodec(deps.config.AIRE_PAYLOAD_KEYS) : undefined;
  router.use(allowOrigins(deps.config.AIRE_CODEC_CORS_ORIGINS));
  // Hostile JSON (deep nesting, NUL, lone surrogates, __proto__) is refused as on every other route.
  router.use(requireKey(deps.pool), requireRole('admin'), express.json({ limit: '8mb', strict: true }), rejectHostileInput);

  for (const op of ['encode', 'decode'] as const) {
    router.post(`/${op}`, async (req, res) => {
      const { payloads } = body(CodecPayloadsSchema, req);
      if (!codec) throw new HttpProblem(404, 'Not Found', 'payload encryption is off (AIRE_PAYLOAD_KEYS is unset): payloads are stored readable');
      const converted = await codec[op](payloads.map(fromJson)).catch((err: Error) => {
        throw new HttpProblem(400, 'Bad Request', err.message);
      });
      res.json({ payloads: converted.map(toJson) });
    });
  }
  return router;
}
