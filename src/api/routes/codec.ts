import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import { EncryptionCodec } from '../../temporal/payload-codec';
import { requireKey } from '../auth';
import { rejectHostileInput } from '../hostile-input';
import type { Deps } from '../deps';
import { HttpProblem } from '../problem';
import { defineRoute } from '../route';

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

/** What runs for every request under /api/codec before its routes: the CORS preflight (no key), then the key. */
export function codecGate(deps: Deps): RequestHandler[] {
  return [allowOrigins(deps.config.AIRE_CODEC_CORS_ORIGINS), requireKey(deps.pool)];
}

/** One codec per app: none when payload encryption is off. */
const codecs = new WeakMap<Deps, EncryptionCodec | null>();
function codecOf(deps: Deps): EncryptionCodec | null {
  let codec = codecs.get(deps);
  if (codec === undefined) {
    codec = deps.config.AIRE_PAYLOAD_KEYS.length > 0 ? new EncryptionCodec(deps.config.AIRE_PAYLOAD_KEYS) : null;
    codecs.set(deps, codec);
  }
  return codec;
}

export const codecRoutes = (['encode', 'decode'] as const).map((op) =>
  defineRoute({
    method: 'post',
    path: `/api/codec/${op}`,
    operationId: `codec${op === 'encode' ? 'Encode' : 'Decode'}`,
    tag: 'codec',
    summary:
      op === 'decode' ? 'Decrypt payloads of a Temporal history (the Web UI and `temporal --codec-endpoint` call it)' : 'Encrypt payloads as the worker does',
    description: "Temporal's codec server protocol: payloads in protobuf JSON. 404 when payload encryption is off.",
    roles: ['admin'],
    mount: 'codec',
    // Its own body limit (histories are large); hostile JSON (deep nesting, NUL, lone surrogates, __proto__) is refused as on every other route.
    middleware: () => [express.json({ limit: '8mb', strict: true }), rejectHostileInput],
    body: { component: 'CodecPayloadsInput', schema: CodecPayloadsSchema },
    responses: { 200: { description: 'the payloads, converted', component: 'CodecPayloads', schema: CodecPayloadsSchema } },
    problems: [400],
    handler: async ({ body: { payloads }, deps, res }) => {
      const codec = codecOf(deps);
      if (!codec) throw new HttpProblem(404, 'Not Found', 'payload encryption is off (AIRE_PAYLOAD_KEYS is unset): payloads are stored readable');
      const converted = await codec[op](payloads.map(fromJson)).catch((err: Error) => {
        throw new HttpProblem(400, 'Bad Request', err.message);
      });
      res.json({ payloads: converted.map(toJson) });
    },
  }),
);
