import {
  IdempotencyInProgressError,
  InvalidStateError,
  RunNotFoundError,
  StageNotFoundError,
  ValidationError,
  WorkflowNotFoundError,
} from "../kernel/errors.js";
import { json, type ApiResponse } from "./http.js";
import type { ApiErrorBody, ApiErrorCode, ApiIssue } from "./types.js";

/**
 * A request the router refuses before it reaches the kernel (bad JSON, unknown route, ...).
 * Thrown inside the router and turned into the matching 4xx response.
 */
export class ApiRequestError extends Error {
  override name = "ApiRequestError";
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly issues?: ApiIssue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function errorResponse(statusCode: number, code: ApiErrorCode, message: string, issues?: ApiIssue[], headers: Record<string, string> = {}): ApiResponse {
  const body: ApiErrorBody = { error: { code, message, ...(issues ? { issues } : {}) } };
  return json(statusCode, body, headers);
}

/**
 * Maps what a user can get wrong to a 4xx; anything else is ours and becomes a 500 whose body
 * reveals nothing (the details go to the log through `onUnexpected`).
 */
export function toErrorResponse(error: unknown, onUnexpected: (error: unknown) => void): ApiResponse {
  if (error instanceof ApiRequestError) return errorResponse(error.statusCode, error.code, error.message, error.issues, error.headers);
  if (error instanceof ValidationError) {
    // The field may be nested ("config.summarize"): issues carry the full path from the body's root.
    const prefix = error.field.split(".");
    const issues = error.issues.map((i) => ({ path: [...prefix, ...i.path], message: i.message, ...(i.code ? { code: i.code } : {}) }));
    return errorResponse(400, "ValidationError", error.message, issues);
  }
  if (error instanceof WorkflowNotFoundError) return errorResponse(404, "WorkflowNotFound", error.message);
  if (error instanceof RunNotFoundError) return errorResponse(404, "RunNotFound", error.message);
  if (error instanceof StageNotFoundError) return errorResponse(400, "StageNotFound", error.message);
  if (error instanceof InvalidStateError) return errorResponse(409, "InvalidState", error.message);
  if (error instanceof IdempotencyInProgressError) {
    return errorResponse(409, "IdempotencyInProgress", error.message, undefined, { "retry-after": "1" });
  }
  onUnexpected(error);
  return errorResponse(500, "InternalError", "The request could not be completed; it is safe to retry");
}
