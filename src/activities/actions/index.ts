import { ACTION_SPECS, type ActionType, type SpecOf } from '../../domain/actions';
import { blockExecutor } from './block';
import { commandExecutor } from './command';
import { disableFeatureExecutor } from './disable-feature';
import { escalateExecutor } from './escalate';
import { httpExecutor } from './http';
import { manualExecutor } from './manual';
import { notifyExecutor } from './notify';
import { restartExecutor } from './restart';
import { rollbackDeployExecutor } from './rollback-deploy';
import { scaleExecutor } from './scale';
import { ActionExecutor } from './types';
import { verifyExecutor } from './verify';
import { waitExecutor } from './wait';

/**
 * Every action type of the catalogue (src/domain/actions) with its executor. Typed so that a
 * catalogue entry without an executor, or an executor bound to another entry, does not compile;
 * `defineExecutor` requires `compensate` of a compensable entry.
 */
const BY_TYPE: { [T in ActionType]: ActionExecutor<SpecOf<T>> } = {
  notify: notifyExecutor,
  http: httpExecutor,
  command: commandExecutor,
  scale: scaleExecutor,
  disable_feature: disableFeatureExecutor,
  block: blockExecutor,
  rollback_deploy: rollbackDeployExecutor,
  restart: restartExecutor,
  verify: verifyExecutor,
  wait: waitExecutor,
  manual: manualExecutor,
  escalate: escalateExecutor,
};

/** The executors, in catalogue order: the worker registers `<type>.execute` and `<type>.compensate` of each. */
export const EXECUTORS: readonly ActionExecutor[] = ACTION_SPECS.map((spec): ActionExecutor => BY_TYPE[spec.type] as ActionExecutor);

export function findExecutor(type: string): ActionExecutor | undefined {
  return EXECUTORS.find((executor) => executor.spec.type === type);
}
