// revenant's search attributes: registered with the server (scripts/temporal.sh and the
// embedded server do it; on a cluster: temporal operator search-attribute create), kept
// current by the workflow, so `temporal workflow list --query` and Temporal Web find
// migrations by database, table, phase and progress, and a fleet's targets by its name.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  database: defineSearchAttributeKey('RevenantDatabase', SearchAttributeType.KEYWORD),
  table: defineSearchAttributeKey('RevenantTable', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('RevenantPhase', SearchAttributeType.KEYWORD),
  progress: defineSearchAttributeKey('RevenantProgress', SearchAttributeType.DOUBLE),
  /** A fleet's name, on the fleet's workflow and each of its targets' (workflows/fleet.ts). */
  fleet: defineSearchAttributeKey('RevenantFleet', SearchAttributeType.KEYWORD),
};
