/**
 * The ports the handlers run on, built once per Lambda container (or once per local stack).
 * On AWS everything comes from the environment variables the construct sets (ENV_VARS); the
 * local stack passes its own clients and a recording event sink.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { AICallLogger } from "../../engine/core/ai-call-logger.js";
import { createDynamoWorkflowPersistence, createS3BlobStore, createSqsJobTransport, ENV_VARS, type SqsJobTransport } from "../../engine/aws/index.js";
import { createKernel, type Kernel } from "../../engine/kernel/index.js";
import type { BlobStore, Clock, EventSink, Persistence, Scheduler, WorkflowRegistry } from "../../engine/kernel/ports.js";

export interface EngineRuntime {
  readonly registry: WorkflowRegistry;
  readonly kernel: Kernel;
  readonly persistence: Persistence;
  readonly blobStore: BlobStore;
  readonly jobTransport: SqsJobTransport;
  readonly eventSink: EventSink;
}

export interface EngineRuntimeOptions {
  registry: WorkflowRegistry;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  s3: S3Client;
  tableName: string;
  bucketName: string;
  queueUrls: { high: string; normal: string; low: string };
  eventSink: EventSink;
  scheduler: Scheduler;
  aiCallLogger?: AICallLogger;
  clock?: Clock;
  workerId?: string;
}

export function createEngineRuntime(options: EngineRuntimeOptions): EngineRuntime {
  const clock = options.clock ?? { now: () => new Date() };
  const blobStore = createS3BlobStore({ client: options.s3, bucket: options.bucketName });
  const persistence = createDynamoWorkflowPersistence({ client: options.dynamo, tableName: options.tableName, clock, blobStore });
  const jobTransport = createSqsJobTransport({
    client: options.sqs,
    queueUrls: options.queueUrls,
    clock,
    // A worker drops jobs of runs cancelled by another process (the API) when it receives them.
    isRunCancelled: async (runId) => (await persistence.getRun(runId))?.status === "CANCELLED",
  });
  const kernel = createKernel({
    persistence,
    blobStore,
    jobTransport,
    eventSink: options.eventSink,
    scheduler: options.scheduler,
    clock,
    registry: options.registry,
    aiCallLogger: options.aiCallLogger,
    workerId: options.workerId,
  });
  return { registry: options.registry, kernel, persistence, blobStore, jobTransport, eventSink: options.eventSink };
}

/** Reads a required variable; the construct sets all of them, so a missing one is a wiring bug. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set (the WorkflowEngine construct sets it)`);
  return value;
}

/** SDK clients for the deployed stack (or for the emulators when their endpoints are set). */
export function createAwsClients(env: NodeJS.ProcessEnv = process.env) {
  const dynamoEndpoint = env[ENV_VARS.dynamoEndpoint];
  const sqsS3Endpoint = env[ENV_VARS.sqsS3Endpoint];
  return {
    dynamo: new DynamoDBClient(dynamoEndpoint ? { endpoint: dynamoEndpoint } : {}),
    sqs: new SQSClient(sqsS3Endpoint ? { endpoint: sqsS3Endpoint } : {}),
    s3: new S3Client(sqsS3Endpoint ? { endpoint: sqsS3Endpoint, forcePathStyle: true } : {}),
  };
}

/** Table, bucket and queues named by the construct's environment variables. */
export function resourceNamesFromEnv(env: NodeJS.ProcessEnv = process.env) {
  return {
    tableName: requireEnv(ENV_VARS.tableName, env),
    bucketName: requireEnv(ENV_VARS.bucketName, env),
    queueUrls: {
      high: requireEnv(ENV_VARS.queueUrlHigh, env),
      normal: requireEnv(ENV_VARS.queueUrlNormal, env),
      low: requireEnv(ENV_VARS.queueUrlLow, env),
    },
  };
}
