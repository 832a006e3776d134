import { z } from 'zod';

export interface FieldError {
  /** Where the problem is, written the way a person reads it: `steps[2].params.url`. */
  path: string;
  message: string;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

export type Issue = z.ZodError['issues'][number];

export function issueError(issue: Issue, prefix: ReadonlyArray<PropertyKey> = []): FieldError {
  return { path: formatPath([...prefix, ...issue.path]), message: issue.message };
}

export function fieldErrors(error: z.ZodError, prefix: ReadonlyArray<PropertyKey> = []): FieldError[] {
  return error.issues.map((issue) => issueError(issue, prefix));
}

/** Thrown where input is invalid; the API turns it into a 400 problem+json listing `errors`. */
export class ValidationError extends Error {
  constructor(
    message: string,
    readonly errors: FieldError[],
  ) {
    super(`${message}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    this.name = 'ValidationError';
  }
}

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(`invalid ${what}`, fieldErrors(result.error));
  return result.data;
}
