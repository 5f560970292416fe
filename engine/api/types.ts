/**
 * The HTTP API's wire format: what `POST /runs`, `GET /runs/{id}` and friends send and return.
 * Types only, so the client can import them without loading the router.
 */
import type { Status } from "../core/types.js";

export type { Status };

/** Body of `POST /runs`. The idempotency key travels in the `Idempotency-Key` header. */
export interface StartRunRequest {
  workflowId: string;
  input: unknown;
  /** Per-stage config keyed by stage id. */
  config?: Record<string, unknown>;
  /** 1 (lowest) to 10 (highest). @default 5 */
  priority?: number;
  metadata?: Record<string, unknown>;
}

/** Response of `POST /runs` (201, or 200 when an idempotency key replays an earlier start). */
export interface StartRunResponse {
  workflowRunId: string;
  status: Status;
}

/** A run as `GET /runs/{id}` shows it. Times are ISO-8601 strings. */
export interface RunView<TOutput = unknown> {
  id: string;
  workflowId: string;
  workflowName: string;
  status: Status;
  priority: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  /** Milliseconds from start to completion. */
  duration: number | null;
  input: unknown;
  /** The final group's output once COMPLETED (large outputs are fetched from S3 for you). */
  output: TOutput | null;
  /** AI cost in USD recorded for the run. */
  totalCost: number;
  totalTokens: number;
  currentGroup: number;
  errorMessage: string | null;
  metadata: Record<string, unknown> | null;
}

/** A run in a `GET /runs` page: the view without input and output, which can be large. */
export type RunSummary = Omit<RunView, "input" | "output">;

/** `GET /runs?workflowId=&status=&limit=&cursor=` */
export interface ListRunsResponse {
  runs: RunSummary[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** One stage of a run, from `GET /runs/{id}/stages`. */
export interface StageView {
  stageId: string;
  stageName: string;
  stageNumber: number;
  executionGroup: number;
  status: Status;
  attempt: number;
  startedAt: string | null;
  completedAt: string | null;
  duration: number | null;
  output: unknown;
  nextPollAt: string | null;
  metrics: Record<string, number> | null;
  errorMessage: string | null;
}

export interface ListStagesResponse {
  stages: StageView[];
}

/** One event of a run, from `GET /runs/{id}/events`, in sequence order. */
export interface EventView {
  /** Stable id (`<runId>:<sequence>`); the same id EventBridge consumers see. */
  id: string;
  sequence: number;
  type: string;
  occurredAt: string;
  payload: Record<string, unknown>;
  /** When the event reached the event bus; null while it waits in the outbox. */
  publishedAt: string | null;
}

export interface ListEventsResponse {
  events: EventView[];
  /** Pass as `afterSequence` to read the events that come next. */
  lastSequence: number;
}

export interface CancelRunResponse {
  workflowRunId: string;
  cancelled: boolean;
}

export interface RerunResponse {
  workflowRunId: string;
  fromStageId: string;
  deletedStages: string[];
}

/** A workflow's plan, from `GET /workflows`. */
export interface WorkflowView {
  id: string;
  name: string;
  description: string;
  /** Execution groups in order; stages in one group run in parallel. */
  groups: { id: string; name: string; mode: string }[][];
  /** JSON Schema of the input, generated from the workflow's zod schema. */
  inputSchema: Record<string, unknown> | null;
}

export interface ListWorkflowsResponse {
  workflows: WorkflowView[];
}

/** One problem with a request, in the shape zod reports it. */
export interface ApiIssue {
  path: (string | number)[];
  message: string;
  code?: string;
}

/** Machine-readable reason of a 4xx or 5xx response. */
export type ApiErrorCode =
  | "BadRequest"
  | "MalformedJson"
  | "ValidationError"
  | "WorkflowNotFound"
  | "RunNotFound"
  | "StageNotFound"
  | "InvalidState"
  | "IdempotencyInProgress"
  | "NotFound"
  | "MethodNotAllowed"
  | "PayloadTooLarge"
  | "InternalError";

/** Every error response has this body. */
export interface ApiErrorBody {
  error: {
    code: ApiErrorCode;
    message: string;
    /** ValidationError: each field that is wrong and why. */
    issues?: ApiIssue[];
  };
}
