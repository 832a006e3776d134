import { blockAction } from './block';
import { commandAction } from './command';
import { disableFeatureAction } from './disable-feature';
import { escalateAction } from './escalate';
import { httpAction } from './http';
import { manualAction } from './manual';
import { notifyAction } from './notify';
import { rollbackDeployAction } from './rollback-deploy';
import { scaleAction } from './scale';
import { ActionModule } from './types';
import { verifyAction } from './verify';
import { waitAction } from './wait';

/** The action catalogue. A runbook step's `action` must name one of these. */
export const ACTIONS: readonly ActionModule[] = [
  notifyAction,
  httpAction,
  commandAction,
  scaleAction,
  disableFeatureAction,
  blockAction,
  rollbackDeployAction,
  verifyAction,
  waitAction,
  manualAction,
  escalateAction,
] as ActionModule[];

const BY_TYPE = new Map(ACTIONS.map((a) => [a.type, a]));

export function findAction(type: string): ActionModule | undefined {
  return BY_TYPE.get(type);
}

export const ACTION_TYPES = ACTIONS.map((a) => a.type);
