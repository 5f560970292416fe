/** How a stage's failed attempts are retried. */
export interface RetryPolicy {
  /** Total attempts including the first. @default 3 */
  maxAttempts?: number;
  /** Delay before the first retry in ms. @default 1000 */
  initialDelayMs?: number;
  /** Multiplier applied per further retry. @default 2 */
  backoffCoefficient?: number;
  /** Upper bound of one delay in ms. @default 300000 */
  maxDelayMs?: number;
  /** Fraction of the delay randomised (0..1), so retries of many runs spread out. @default 0.2 */
  jitter?: number;
  /** Error names (`error.name`) that fail the stage at once. ZodError is never retried. */
  nonRetryableErrors?: readonly string[];
}

export const DEFAULT_RETRY_POLICY: Required<RetryPolicy> = {
  maxAttempts: 3,
  initialDelayMs: 1000,
  backoffCoefficient: 2,
  maxDelayMs: 300_000,
  jitter: 0.2,
  nonRetryableErrors: [],
};

export function resolveRetryPolicy(policy?: RetryPolicy): Required<RetryPolicy> {
  return { ...DEFAULT_RETRY_POLICY, ...policy };
}

/**
 * Delay before retry number `failedAttempt` (1-based: the attempt that just failed).
 * `random` is injectable so tests get deterministic delays.
 */
export function retryDelayMs(
  policy: Required<RetryPolicy>,
  failedAttempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.backoffCoefficient ** Math.max(0, failedAttempt - 1),
  );
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

/** Errors that mark a stage as failed for good whatever the attempt count. */
export class NonRetryableError extends Error {
  override name = "NonRetryableError";
}

/** Deterministic failures: another attempt would fail the same way. */
const ALWAYS_FINAL = new Set(["ZodError", "StageValidationError", "ValidationError", "MissingStageOutputError", "NonRetryableError"]);

export function isRetryable(error: unknown, policy: Required<RetryPolicy>): boolean {
  if (!(error instanceof Error)) return true;
  if (ALWAYS_FINAL.has(error.name) || error instanceof NonRetryableError) return false;
  return !policy.nonRetryableErrors.includes(error.name);
}
