import type { ApiErrorCode, ApiIssue } from "../api/types.js";

/**
 * The API answered with an error status. `code` says why; `issues` lists each invalid field
 * of a `ValidationError`.
 *
 * @example
 * ```ts
 * try {
 *   await client.startRun("document-processor", { url: "not a url" });
 * } catch (error) {
 *   if (error instanceof StageflowApiError && error.code === "ValidationError") console.log(error.issues);
 * }
 * ```
 */
export class StageflowApiError extends Error {
  override name = "StageflowApiError";
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode | "Unknown",
    message: string,
    readonly issues: ApiIssue[] = [],
  ) {
    super(`${message} (HTTP ${status} ${code})`);
  }
}

/** `waitForRun` gave up before the run reached a terminal status. Call it again to keep waiting. */
export class WaitForRunTimeoutError extends Error {
  override name = "WaitForRunTimeoutError";
  constructor(
    readonly workflowRunId: string,
    readonly lastStatus: string,
    readonly timeoutMs: number,
  ) {
    super(`Run "${workflowRunId}" is still ${lastStatus} after ${timeoutMs} ms; call waitForRun again to keep waiting`);
  }
}
