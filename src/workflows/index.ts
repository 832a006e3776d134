// The worker loads workflows from this module (workflowsPath); keep it to workflow code only.
export { incidentWorkflow } from './incident';
export { postmortemReviewWorkflow } from './postmortem-review';
