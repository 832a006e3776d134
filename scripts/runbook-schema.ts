/** Writes runbooks/runbook.schema.json from the runbook zod schema: `npm run schema`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACTION_TYPES } from '../src/domain/actions';
import { runbookJsonSchema } from '../src/domain/runbook-json-schema';

const target = join(__dirname, '..', 'runbooks', 'runbook.schema.json');
writeFileSync(target, `${JSON.stringify(runbookJsonSchema(ACTION_TYPES), null, 2)}\n`);
console.error(`wrote ${target}`);
