/**
 * CloudWatch names the handlers publish and the construct's alarms watch. Plain constants with no
 * imports, so `infra/` can read them without loading any handler code.
 */
export const METRICS_NAMESPACE = "stageflow";

export const METRIC = {
  stagesCompleted: "StagesCompleted",
  stagesFailed: "StagesFailed",
  stagesSuspended: "StagesSuspended",
  stageDuration: "StageDuration",
  ghostJobsDropped: "GhostJobsDropped",
  aiCost: "AICostUSD",
  runsStarted: "RunsStarted",
  /** Runs the maintenance tick found RUNNING with no progress (re-driven or failed). */
  stuckRuns: "StuckRuns",
  eventsPublished: "EventsPublished",
  eventsFailed: "EventsFailedToPublish",
} as const;

export const SERVICE_NAME = {
  api: "stageflow-api",
  worker: "stageflow-worker",
  maintenance: "stageflow-maintenance",
  outboxPublisher: "stageflow-outbox-publisher",
} as const;
