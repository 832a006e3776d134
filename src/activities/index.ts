import { zeroWorkerSeries } from '../metrics';
import { StepDeps, createStepActivities } from './steps';
import { createNotificationActivities } from './notifications';
import { createStoreActivities } from './store';

export type { StoreActivities, Transition, RunbookChoice } from './store';
export type { StepActivity, StepCall } from './steps';
export type { NotificationActivities, NotificationCall } from './notifications';

/** Every activity the worker registers, built with their dependencies (Temporal's DI pattern). */
export function createActivities(deps: StepDeps) {
  // The lifecycle counters these activities record start at zero (src/metrics.ts says why).
  zeroWorkerSeries();
  return { ...createStoreActivities(deps), ...createStepActivities(deps), ...createNotificationActivities(deps) };
}
