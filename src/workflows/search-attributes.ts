import { defineSearchAttributeKey, SearchAttributePair, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes, registered when the Temporal server starts (scripts/temporal.sh) and
 * kept current by the workflow, so the Web UI and `temporal workflow list --query` can filter
 * incidents: `AireSeverity="critical" AND AireStatus="awaiting_approval"`.
 */
export const AireTenant = defineSearchAttributeKey('AireTenant', SearchAttributeType.KEYWORD);
export const AireSeverity = defineSearchAttributeKey('AireSeverity', SearchAttributeType.KEYWORD);
export const AireStatus = defineSearchAttributeKey('AireStatus', SearchAttributeType.KEYWORD);
export const AireSource = defineSearchAttributeKey('AireSource', SearchAttributeType.KEYWORD);
export const AireRunbook = defineSearchAttributeKey('AireRunbook', SearchAttributeType.KEYWORD);
/** The incident commander: `AireCommander="alice"` in the Web UI lists "my incidents". */
export const AireCommander = defineSearchAttributeKey('AireCommander', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_NAMES = [AireTenant, AireSeverity, AireStatus, AireSource, AireRunbook, AireCommander].map((k) => k.name);

/** What a run's memo and search attributes are made from. */
interface IncidentRunInput {
  incidentId: string;
  tenantSlug: string;
  draft: { title: string; severity: string; source: string };
}

/**
 * The memo (the incident id the API reads) and search attributes an incident's run starts with.
 * One definition for the API's start and for a run that a closing incident hands its events on to.
 */
export function incidentRunAttributes(input: IncidentRunInput): { memo: { incidentId: string; title: string }; searchAttributes: SearchAttributePair[] } {
  return {
    memo: { incidentId: input.incidentId, title: input.draft.title },
    searchAttributes: [
      { key: AireTenant, value: input.tenantSlug },
      { key: AireSeverity, value: input.draft.severity },
      { key: AireStatus, value: 'open' },
      { key: AireSource, value: input.draft.source },
    ],
  };
}
