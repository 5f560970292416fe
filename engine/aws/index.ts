/**
 * `stageflow/aws`: the kernel's production ports on AWS. Load this subpath only where AWS is
 * used; `stageflow` itself never loads an AWS SDK.
 */
export { createDynamoWorkflowPersistence, type DynamoWorkflowPersistenceOptions } from "./dynamo/persistence.js";
export { DynamoItemTooLargeError, DynamoTableNotFoundError, AwsCredentialsError, TransactionTooLargeError } from "./dynamo/errors.js";
export type { DynamoClientLike } from "./dynamo/document-client.js";
export * from "./definitions.js";
export { createSqsJobTransport, type SqsJobTransport, type SqsJobTransportOptions, type SqsRecordLike } from "./sqs/job-transport.js";
export { SqsQueueNotFoundError } from "./sqs/errors.js";
export { createS3BlobStore, type S3BlobStoreOptions } from "./s3/blob-store.js";
export { BlobNotFoundError, S3BucketNotFoundError } from "./s3/errors.js";
export { createDynamoJobQueue, type DynamoJobQueueOptions } from "./dynamo/job-queue.js";
export {
  createEventBridgeEventSink,
  batchEntries,
  entrySize,
  type EventBridgeEventSinkOptions,
} from "./eventbridge/event-sink.js";
export {
  createEventBridgeScheduler,
  scheduleName,
  type EventBridgeSchedulerOptions,
  type ScheduledCommandInput,
} from "./eventbridge/scheduler.js";
export { createDynamoAICallLogger, type DynamoAICallLoggerOptions } from "./dynamo/ai-call-logger.js";
