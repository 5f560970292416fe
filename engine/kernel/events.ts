/** Events the kernel writes to the outbox with each state change. `type` is the EventBridge detail-type. */

interface EventBase {
  workflowRunId: string;
  /** ISO-8601 time of the state change. */
  timestamp: string;
}

export interface WorkflowCreatedEvent extends EventBase {
  type: "workflow:created";
  workflowId: string;
  priority: number;
}
export interface WorkflowStartedEvent extends EventBase {
  type: "workflow:started";
  workflowId: string;
}
export interface WorkflowCompletedEvent extends EventBase {
  type: "workflow:completed";
  workflowId: string;
  output: unknown;
  duration: number;
  totalCost: number;
  totalTokens: number;
}
export interface WorkflowFailedEvent extends EventBase {
  type: "workflow:failed";
  workflowId: string;
  error: string;
  failedStageId?: string;
}
export interface WorkflowCancelledEvent extends EventBase {
  type: "workflow:cancelled";
  workflowId: string;
  reason?: string;
}
export interface WorkflowSuspendedEvent extends EventBase {
  type: "workflow:suspended";
  workflowId: string;
  stageIds: string[];
}
export interface WorkflowResumedEvent extends EventBase {
  type: "workflow:resumed";
  workflowId: string;
}
export interface WorkflowRerunEvent extends EventBase {
  type: "workflow:rerun";
  workflowId: string;
  fromStageId: string;
  resetStageIds: string[];
}
export interface StageStartedEvent extends EventBase {
  type: "stage:started";
  stageId: string;
  stageName: string;
  attempt: number;
}
export interface StageProgressEvent extends EventBase {
  type: "stage:progress";
  stageId: string;
  progress: number;
  message?: string;
  details?: Record<string, unknown>;
}
export interface StageCompletedEvent extends EventBase {
  type: "stage:completed";
  stageId: string;
  stageName: string;
  duration: number;
  attempt: number;
  cost: number;
  tokens: number;
}
export interface StageFailedEvent extends EventBase {
  type: "stage:failed";
  stageId: string;
  stageName: string;
  error: string;
  attempt: number;
  /** True when another attempt is scheduled. */
  willRetry: boolean;
  retryAt?: string;
}
export interface StageSuspendedEvent extends EventBase {
  type: "stage:suspended";
  stageId: string;
  stageName: string;
  nextPollAt: string;
  maxWaitUntil: string;
}
export interface StageResumedEvent extends EventBase {
  type: "stage:resumed";
  stageId: string;
}

export type KernelEvent =
  | WorkflowCreatedEvent
  | WorkflowStartedEvent
  | WorkflowCompletedEvent
  | WorkflowFailedEvent
  | WorkflowCancelledEvent
  | WorkflowSuspendedEvent
  | WorkflowResumedEvent
  | WorkflowRerunEvent
  | StageStartedEvent
  | StageProgressEvent
  | StageCompletedEvent
  | StageFailedEvent
  | StageSuspendedEvent
  | StageResumedEvent;

export type KernelEventType = KernelEvent["type"];

export const KERNEL_EVENT_TYPES: readonly KernelEventType[] = [
  "workflow:created",
  "workflow:started",
  "workflow:completed",
  "workflow:failed",
  "workflow:cancelled",
  "workflow:suspended",
  "workflow:resumed",
  "workflow:rerun",
  "stage:started",
  "stage:progress",
  "stage:completed",
  "stage:failed",
  "stage:suspended",
  "stage:resumed",
];

/** Distributes Omit over the union so each event keeps its own fields. */
export type KernelEventInput = KernelEvent extends infer E
  ? E extends KernelEvent
    ? Omit<E, "timestamp" | "workflowRunId">
    : never
  : never;
