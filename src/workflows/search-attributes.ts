import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

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

export const SEARCH_ATTRIBUTE_NAMES = [AireTenant, AireSeverity, AireStatus, AireSource, AireRunbook].map((k) => k.name);
