import { blockSpec } from './block';
import { commandSpec } from './command';
import { disableFeatureSpec } from './disable-feature';
import { escalateSpec } from './escalate';
import { httpSpec } from './http';
import { manualSpec } from './manual';
import { notifySpec } from './notify';
import { restartSpec } from './restart';
import { rollbackDeploySpec } from './rollback-deploy';
import { scaleSpec } from './scale';
import type { ActionSpec } from './spec';
import { verifySpec } from './verify';
import { waitSpec } from './wait';

export { type ActionSpec, defineActionSpec } from './spec';
export {
  blockSpec,
  commandSpec,
  disableFeatureSpec,
  escalateSpec,
  httpSpec,
  manualSpec,
  notifySpec,
  restartSpec,
  rollbackDeploySpec,
  scaleSpec,
  verifySpec,
  waitSpec,
};

/**
 * The action catalogue: what a runbook step's `action` may name, in the order the OpenAPI document
 * and the runbook JSON schema list them. Each has its executor in src/activities/actions.
 */
export const ACTION_SPECS = [
  notifySpec,
  httpSpec,
  commandSpec,
  scaleSpec,
  disableFeatureSpec,
  blockSpec,
  rollbackDeploySpec,
  restartSpec,
  verifySpec,
  waitSpec,
  manualSpec,
  escalateSpec,
] as const;

/** The name of an action type in the catalogue. */
export type ActionType = (typeof ACTION_SPECS)[number]['type'];

/** The catalogue entry of `T`. */
export type SpecOf<T extends ActionType> = Extract<(typeof ACTION_SPECS)[number], { type: T }>;

const BY_TYPE = new Map<string, ActionSpec>(ACTION_SPECS.map((spec): [string, ActionSpec] => [spec.type, spec]));

export function findActionSpec(type: string): ActionSpec | undefined {
  return BY_TYPE.get(type);
}

export const ACTION_TYPES: readonly ActionType[] = ACTION_SPECS.map((spec) => spec.type);
