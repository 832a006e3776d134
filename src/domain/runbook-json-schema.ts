import { z } from 'zod';
import { RunbookSchema } from './runbook';
import { SeedRunbookSchema } from './seed-runbook';

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

/** The JSON Schema of seed 000's runbook format (src/domain/seed-runbook.ts), listing the seed action types AIRE runs. */
export function seedRunbookJsonSchema(seedActionTypes: readonly string[]): Record<string, unknown> {
  const schema = z.toJSONSchema(SeedRunbookSchema, { io: 'input', unrepresentable: 'any' }) as unknown as {
    properties: { actions: { items: { properties: { type: Record<string, unknown> } } } };
  };
  schema.properties.actions.items.properties.type = { type: 'string', enum: [...seedActionTypes] };
  return { ...schema, title: 'Seed 000 runbook (converted to the native runbook on arrival)' };
}
