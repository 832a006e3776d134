import { z } from 'zod';
import { RunbookSchema } from './runbook';

/**
 * The JSON Schema of a runbook file as people write it (defaults may be left out), generated from
 * the same zod schema the engine validates with, so editors and the engine never disagree.
 * Committed as runbooks/runbook.schema.json; a test fails when the file is stale.
 */
export function runbookJsonSchema(actionTypes: readonly string[]): Record<string, unknown> {
  const schema = z.toJSONSchema(RunbookSchema, { io: 'input', unrepresentable: 'any' }) as unknown as {
    properties: { steps: { items: { properties: { action: Record<string, unknown> } } } };
  };
  // The action catalogue (src/domain/actions) is passed in; list it so editors can complete step actions.
  schema.properties.steps.items.properties.action = { type: 'string', enum: [...actionTypes] };
  return { ...schema, $id: 'https://aire.dev/schemas/runbook.schema.json', title: 'AIRE runbook' };
}
