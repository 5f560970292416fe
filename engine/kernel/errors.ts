/** Errors the kernel and its ports throw; each has a name users can check with instanceof. */

export class KernelError extends Error {
  override name = "KernelError";
}

/** The same idempotency key is being executed right now. Retry later. */
export class IdempotencyInProgressError extends KernelError {
  override name = "IdempotencyInProgressError";
  constructor(
    readonly key: string,
    readonly commandType: string,
  ) {
    super(`Command ${commandType} with idempotency key "${key}" is already in progress; retry later`);
  }
}

/** A conditional write lost: the record changed since it was read (version, status, attempt). */
export class PersistenceConflictError extends KernelError {
  override name = "PersistenceConflictError";
}

export class WorkflowNotFoundError extends KernelError {
  override name = "WorkflowNotFoundError";
  constructor(readonly workflowId: string, known: readonly string[] = []) {
    super(
      `Workflow "${workflowId}" not found in registry` +
        (known.length ? ` (known: ${known.join(", ")})` : ""),
    );
  }
}

export class RunNotFoundError extends KernelError {
  override name = "RunNotFoundError";
  constructor(readonly workflowRunId: string) {
    super(`Workflow run "${workflowRunId}" not found`);
  }
}

export class StageNotFoundError extends KernelError {
  override name = "StageNotFoundError";
  constructor(readonly workflowId: string, readonly stageId: string, known: readonly string[] = []) {
    super(
      `Stage "${stageId}" not found in workflow "${workflowId}"` + (known.length ? ` (stages: ${known.join(", ")})` : ""),
    );
  }
}

/** One problem found in user input, in the shape zod reports it. */
export interface ValidationIssue {
  path: (string | number)[];
  message: string;
  code?: string;
}

/** Input or config did not match a schema. Nothing was written. */
export class ValidationError extends KernelError {
  override name = "ValidationError";
  constructor(
    readonly field: string,
    readonly issues: ValidationIssue[],
  ) {
    super(
      `Invalid ${field}: ` +
        issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("; "),
    );
  }
}

/** A stage's output did not match its output schema. Never retried. */
export class StageValidationError extends KernelError {
  override name = "StageValidationError";
  constructor(
    readonly stageId: string,
    readonly issues: ValidationIssue[],
  ) {
    super(
      `Stage "${stageId}" returned output that does not match its output schema: ` +
        issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("; "),
    );
  }
}

/** The command cannot be applied in the run's current state (e.g. rerun of a RUNNING run). */
export class InvalidStateError extends KernelError {
  override name = "InvalidStateError";
  constructor(
    message: string,
    readonly currentStatus?: string,
  ) {
    super(message);
  }
}

/** `ctx.require(id)` asked for an output that does not exist. */
export class MissingStageOutputError extends KernelError {
  override name = "MissingStageOutputError";
}
