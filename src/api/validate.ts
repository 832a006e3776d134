import type { Request } from 'express';
import { z } from 'zod';
import { parseOrThrow } from '../domain/validation';

export function body<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  return parseOrThrow(schema, req.body, 'request body');
}

export function query<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  return parseOrThrow(schema, req.query, 'query');
}

export function params<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  return parseOrThrow(schema, req.params, 'path');
}

/** Request headers by name (matched case-insensitively); an error names the header (`Idempotency-Key`). */
export function headers<H extends Record<string, z.ZodType>>(schemas: H, req: Request): { [K in keyof H]: z.infer<H[K]> } {
  const values = Object.fromEntries(Object.keys(schemas).map((name) => [name, req.get(name)]));
  return parseOrThrow(z.object(schemas), values, 'headers') as { [K in keyof H]: z.infer<H[K]> };
}
