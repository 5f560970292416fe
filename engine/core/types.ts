/** Status shared by runs, stages and jobs (same values as the reference engine). */
export type Status =
  | "PENDING"
  | "RUNNING"
  | "SUSPENDED"
  | "COMPLETED"
  | "FAILED"
  | "CANCELLED"
  | "SKIPPED";

export const TERMINAL_STATUSES: ReadonlySet<Status> = new Set<Status>([
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "SKIPPED",
]);

export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";

/** JSON-compatible value; stage outputs, inputs and state must be JSON. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Timing and custom figures recorded on a stage. */
export interface StageMetrics {
  startTime: number;
  endTime: number;
  duration: number;
  [metric: string]: number;
}

/** What a sync stage (or a resumed async-batch stage) returns. */
export interface StageResult<TOutput> {
  output: TOutput;
  /** Stage-specific figures (itemsProcessed, ...). Timing is filled in by the kernel. */
  customMetrics?: Record<string, number>;
  /** Artifacts to store under the run, keyed by artifact name. */
  artifacts?: Record<string, unknown>;
}

/** State an async-batch stage keeps while it waits for an external job. */
export interface SuspendedState {
  batchId: string;
  submittedAt: string;
  pollInterval: number;
  maxWaitTime: number;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface PollConfig {
  /** Milliseconds between checks. */
  pollInterval: number;
  /** Milliseconds after suspension after which the stage fails. */
  maxWaitTime: number;
  /** First check. Defaults to now + pollInterval. */
  nextPollAt?: Date;
}

/** What an async-batch stage returns to suspend. */
export interface SuspendedResult {
  suspended: true;
  state: SuspendedState;
  pollConfig: PollConfig;
  customMetrics?: Record<string, number>;
}

/** Result of `checkCompletion` for a suspended async-batch stage. */
export type CompletionCheckResult<TOutput> =
  | { ready: true; output: TOutput; customMetrics?: Record<string, number> }
  /** Ready, but the stage's `execute` must run again with `ctx.resumeState` to produce the output. */
  | { ready: true; output?: undefined; resumeState?: SuspendedState }
  | { ready: false; error: string }
  | { ready: false; error?: undefined; nextCheckIn?: number };

export function isSuspendedResult(value: unknown): value is SuspendedResult {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { suspended?: unknown }).suspended === true
  );
}
