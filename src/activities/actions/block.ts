import { type BlockParams, blockSpec } from '../../domain/actions/block';
import { Switch, engageSwitch, restoreSwitch } from './switches';
import { defineExecutor } from './types';

function blockSwitch(incidentId: string, params: BlockParams): Switch {
  return {
    kind: 'block',
    key: params.target,
    pushUrl: params.pushUrl,
    pushBody: (active) => ({ target: params.target, blocked: active, incidentId }),
  };
}

/** `block` (src/domain/actions/block.ts): a switch of kind 'block'; compensation puts it back as it was. */
export const blockExecutor = defineExecutor(blockSpec, {
  async execute(ctx, params) {
    const previous = await engageSwitch(ctx, blockSwitch(ctx.incidentId, params), params.reason);
    return { target: params.target, blocked: true, previous };
  },
  async compensate(ctx, params, output) {
    await restoreSwitch(ctx, blockSwitch(ctx.incidentId, params), output.previous);
    return { target: params.target, blocked: output.previous.active };
  },
});
