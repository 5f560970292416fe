import { KernelError, PersistenceConflictError } from "../../kernel/errors.js";

/** An item would exceed DynamoDB's 400 KB limit and no blob store was given to offload it to. */
export class DynamoItemTooLargeError extends KernelError {
  override name = "DynamoItemTooLargeError";
  constructor(
    readonly itemKey: string,
    readonly sizeBytes: number,
  ) {
    super(
      `Item ${itemKey} would be ${Math.round(sizeBytes / 1024)} KB, above DynamoDB's 400 KB item limit. ` +
        `Pass a blobStore to createDynamoWorkflowPersistence so large fields move to S3, or store less.`,
    );
  }
}

/** The table does not exist (or the client points at the wrong region / endpoint). */
export class DynamoTableNotFoundError extends KernelError {
  override name = "DynamoTableNotFoundError";
  constructor(readonly tableName: string, cause?: unknown) {
    super(
      `DynamoDB table "${tableName}" was not found. Deploy the stageflow stack (cdk deploy) or create it with ` +
        `buildCreateTableInput() from stageflow/aws, and check the client's region and endpoint.`,
      { cause },
    );
  }
}

/** AWS rejected the credentials (missing, wrong or expired). */
export class AwsCredentialsError extends KernelError {
  override name = "AwsCredentialsError";
  constructor(readonly service: string, cause?: unknown) {
    super(
      `${service} rejected the request's credentials (${errorName(cause)}). Check AWS_PROFILE / AWS_ACCESS_KEY_ID, ` +
        `that the session has not expired, and that the role may use this resource.`,
      { cause },
    );
  }
}

/** A transaction has more writes than DynamoDB allows in one TransactWriteItems. */
export class TransactionTooLargeError extends KernelError {
  override name = "TransactionTooLargeError";
  constructor(readonly itemCount: number, max: number) {
    super(`A transaction writes ${itemCount} items; DynamoDB allows at most ${max} in one TransactWriteItems.`);
  }
}

const CREDENTIAL_ERRORS = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "AccessDeniedException",
  "AccessDenied",
  "MissingAuthenticationToken",
  "CredentialsProviderError",
]);

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : String(error);
}

/** True for errors that mean "the credentials are wrong", from any AWS service. */
export function isCredentialsError(error: unknown): boolean {
  return CREDENTIAL_ERRORS.has(errorName(error));
}

/**
 * Turns an SDK error of a DynamoDB call into the error the kernel and users understand:
 * failed conditions and transaction conflicts become PersistenceConflictError (the kernel retries),
 * a missing table and bad credentials become typed errors saying what to do.
 */
export function mapDynamoError(error: unknown, tableName: string, what: string): Error {
  const name = errorName(error);
  if (name === "ConditionalCheckFailedException") {
    return new PersistenceConflictError(`${what}: the item changed since it was read (condition failed)`, { cause: error });
  }
  if (name === "TransactionCanceledException") {
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    const codes = reasons.map((r) => r.Code ?? "None");
    if (codes.some((code) => code === "ConditionalCheckFailed" || code === "TransactionConflict") || codes.length === 0) {
      return new PersistenceConflictError(`${what}: transaction cancelled (${codes.join(", ")})`, { cause: error });
    }
    return new KernelError(`${what}: transaction cancelled (${codes.join(", ")})`, { cause: error });
  }
  if (name === "TransactionConflictException") {
    return new PersistenceConflictError(`${what}: a concurrent transaction touched the same item`, { cause: error });
  }
  if (name === "ResourceNotFoundException") return new DynamoTableNotFoundError(tableName, error);
  if (isCredentialsError(error)) return new AwsCredentialsError("DynamoDB", error);
  return error instanceof Error ? error : new Error(String(error));
}
