import { KernelError } from "../../kernel/errors.js";
import { AwsCredentialsError, errorName, isCredentialsError } from "../dynamo/errors.js";

/** A blob that should exist does not (deleted, or written to another bucket). */
export class BlobNotFoundError extends KernelError {
  override name = "BlobNotFoundError";
  constructor(readonly bucket: string, readonly key: string, cause?: unknown) {
    super(`Blob "${key}" not found in bucket "${bucket}"`, { cause });
  }
}

/** The bucket does not exist (wrong name or region, or the stack is not deployed). */
export class S3BucketNotFoundError extends KernelError {
  override name = "S3BucketNotFoundError";
  constructor(readonly bucket: string, cause?: unknown) {
    super(`S3 bucket "${bucket}" does not exist. Check STAGEFLOW_BUCKET_NAME and the client's region, or deploy the stack.`, { cause });
  }
}

export function mapS3Error(error: unknown, operation: string, bucket: string, key: string): Error {
  const name = errorName(error);
  if (name === "NoSuchBucket") return new S3BucketNotFoundError(bucket, error);
  if (name === "NoSuchKey" || (name === "NotFound" && operation !== "ListObjectsV2")) return new BlobNotFoundError(bucket, key, error);
  if (isCredentialsError(error) || name === "InvalidAccessKeyId") return new AwsCredentialsError("S3", error);
  return error instanceof Error ? error : new Error(`${operation} ${key}: ${String(error)}`);
}
