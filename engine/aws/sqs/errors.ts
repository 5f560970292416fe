import { KernelError } from "../../kernel/errors.js";
import { AwsCredentialsError, errorName, isCredentialsError } from "../dynamo/errors.js";

/** A job queue does not exist (wrong URL, region, or the stack is not deployed). */
export class SqsQueueNotFoundError extends KernelError {
  override name = "SqsQueueNotFoundError";
  constructor(operation: string, cause?: unknown) {
    super(
      `SQS ${operation} failed: the queue does not exist. Check the queue URLs (STAGEFLOW_QUEUE_URL_*), ` +
        `the client's region and endpoint, or deploy the stack.`,
      { cause },
    );
  }
}

const MISSING_QUEUE = new Set(["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "NonExistentQueue"]);

/** Clear errors for a missing queue and bad credentials; anything else passes through. */
export function mapSqsError(error: unknown, operation: string): Error {
  const name = errorName(error);
  const code = (error as { Code?: string } | undefined)?.Code;
  if (MISSING_QUEUE.has(name) || (code && MISSING_QUEUE.has(code))) return new SqsQueueNotFoundError(operation, error);
  if (isCredentialsError(error)) return new AwsCredentialsError("SQS", error);
  return error instanceof Error ? error : new Error(String(error));
}
