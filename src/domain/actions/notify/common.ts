import { z } from 'zod';

/** What every channel says: the notification's text (redacted when it is sent). */
export const Message = z.string().min(1).max(4_000);

/** What a delivery over HTTP answers: the target's status. */
export const HttpSent = z.object({ status: z.number().int() });
