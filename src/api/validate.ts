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
