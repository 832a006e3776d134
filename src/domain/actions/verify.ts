import { z } from 'zod';
import { DurationSchema } from '../duration';
import { defineActionSpec } from './spec';

/** `{"path": "status", "equals": "ok"}`: the JSON answer must hold `equals` at the dotted `path`. */
export const ExpectSchema = z
  .object({
    path: z.string().min(1).max(200),
    equals: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  })
  .strict();
export type Expect = z.infer<typeof ExpectSchema>;

/** How to poll a health endpoint; shared with the actions that check health after acting. */
export const PollSchema = z
  .object({
    /** Time between checks. */
    interval: DurationSchema.default(5_000),
    /**
     * How long to keep checking before giving up (this attempt). The default stays under a step's
     * default 30 s timeout, so the step fails with "not healthy" rather than being cut off.
     */
    timeout: DurationSchema.default(20_000),
    expect: ExpectSchema.optional(),
  })
  .strict();

export const VerifyParams = PollSchema.extend({
  url: z.string().url(),
  headers: z.record(z.string(), z.string()).optional(),
}).strict();

/** A health check that passed: its answer's status, how many checks it took and how long. */
export const HealthySchema = z.object({
  healthy: z.literal(true),
  status: z.number().int(),
  checks: z.number().int().positive(),
  elapsedMs: z.number(),
});
export type Healthy = z.infer<typeof HealthySchema>;

/** Waits until a health endpoint says the service is healthy, or fails the step when it does not in time. */
export const verifySpec = defineActionSpec({
  type: 'verify',
  description: 'Poll a health endpoint until it answers 2xx (optionally with a JSON field holding a value) or time out',
  params: VerifyParams,
  output: HealthySchema,
  compensable: false,
  describeCompensation: () => 'nothing: verify only reads',
});
