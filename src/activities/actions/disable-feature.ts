import { type DisableFeatureParams, disableFeatureSpec } from '../../domain/actions/disable-feature';
import { Switch, engageSwitch, restoreSwitch } from './switches';
import { defineExecutor } from './types';

function featureSwitch(incidentId: string, params: DisableFeatureParams): Switch {
  return {
    kind: 'feature',
    key: params.flag,
    pushUrl: params.pushUrl,
    pushBody: (active) => ({ flag: params.flag, enabled: !active, incidentId }),
  };
}

/** `disable_feature` (src/domain/actions/disable-feature.ts): a kill switch of kind 'feature'; compensation puts it back as it was. */
export const disableFeatureExecutor = defineExecutor(disableFeatureSpec, {
  async execute(ctx, params) {
    const previous = await engageSwitch(ctx, featureSwitch(ctx.incidentId, params), params.reason);
    return { flag: params.flag, disabled: true, previous };
  },
  async compensate(ctx, params, output) {
    await restoreSwitch(ctx, featureSwitch(ctx.incidentId, params), output.previous);
    return { flag: params.flag, enabled: !output.previous.active };
  },
});
