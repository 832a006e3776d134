/**
 * The action catalogue (src/domain/actions) and its executors (src/activities/actions) stay paired:
 * the type of src/activities/actions/index.ts already refuses a catalogue entry without an executor
 * and `defineExecutor` a compensable entry without `compensate`; this checks the pairing at run time
 * and that the activity names running workflows refer to never change.
 */
import { EXECUTORS, findExecutor } from '../../src/activities/actions';
import { createStepActivities } from '../../src/activities/steps';
import { ConfigSchema } from '../../src/config';
import { createPool } from '../../src/db/pool';
import { ACTION_SPECS, ACTION_TYPES, findActionSpec } from '../../src/domain/actions';

/** As registered before the catalogue moved to src/domain (histories of running incidents name these), plus `restart`. */
const ACTIVITY_NAMES = [
  'notify',
  'http',
  'command',
  'scale',
  'disable_feature',
  'block',
  'rollback_deploy',
  'restart',
  'verify',
  'wait',
  'manual',
  'escalate',
].flatMap((type) => [`${type}.execute`, `${type}.compensate`]);

describe('the action catalogue', () => {
  it('lists each action type once, in the order the OpenAPI document and the runbook schema use', () => {
    expect(ACTION_TYPES).toEqual([
      'notify',
      'http',
      'command',
      'scale',
      'disable_feature',
      'block',
      'rollback_deploy',
      'restart',
      'verify',
      'wait',
      'manual',
      'escalate',
    ]);
    expect(new Set(ACTION_TYPES).size).toBe(ACTION_TYPES.length);
    for (const spec of ACTION_SPECS) expect(findActionSpec(spec.type)).toBe(spec);
    expect(findActionSpec('page-oncall')).toBeUndefined();
  });

  it('pairs every entry with an executor bound to that very entry, in catalogue order', () => {
    expect(EXECUTORS.map((executor) => executor.spec)).toEqual(ACTION_SPECS);
    EXECUTORS.forEach((executor, i) => expect(executor.spec).toBe(ACTION_SPECS[i]));
    for (const spec of ACTION_SPECS) expect(findExecutor(spec.type)?.spec).toBe(spec);
  });

  it('has a compensate exactly where the entry says it is compensable', () => {
    const compensable = Object.fromEntries(EXECUTORS.map((e) => [e.spec.type, e.spec.compensable]));
    const withCompensate = Object.fromEntries(EXECUTORS.map((e) => [e.spec.type, typeof e.compensate === 'function']));
    expect(withCompensate).toEqual(compensable);
    expect(ACTION_SPECS.filter((s) => s.compensable).map((s) => s.type)).toEqual([
      'notify',
      'http',
      'command',
      'scale',
      'disable_feature',
      'block',
      'rollback_deploy',
    ]);
    expect(ACTION_SPECS.filter((s) => s.awaitsPerson).map((s) => s.type)).toEqual(['manual']);
  });

  it('registers the same activity names as always: <type>.execute and <type>.compensate', async () => {
    // A pg pool connects only on first use; building the activities uses none.
    const pool = createPool('postgres://aire_app@127.0.0.1:5432/unused', 1);
    try {
      expect(Object.keys(createStepActivities({ pool, config: ConfigSchema.parse({}) }))).toEqual(ACTIVITY_NAMES);
    } finally {
      await pool.end();
    }
  });
});
