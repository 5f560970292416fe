/**
 * Local AWS for development and tests: DynamoDB Local and fauxqs (SQS incl. FIFO, S3) on free
 * ports, provisioned from `engine/aws/definitions.ts`. Not part of the Lambda bundles.
 */
import { startDynamoDbLocal, type DynamoDbLocal } from "./dynamodb-local.js";
import { startFauxqsLocal, type FauxqsLocal } from "./fauxqs-local.js";
import { createLocalAwsClients, type LocalEndpoints } from "./clients.js";
import { createBlobBucket, createEngineTable, createJobQueues, type JobQueueUrls } from "./provision.js";
import { ENV_VARS, QUEUES_DEFINITION, TABLE_DEFINITION } from "../definitions.js";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "./credentials.js";

export { createLocalAwsClients, type LocalAwsClients, type LocalEndpoints } from "./clients.js";
export { createBlobBucket, createEngineTable, createJobQueues, type JobQueueUrls } from "./provision.js";
export { startDynamoDbLocal, type DynamoDbLocal } from "./dynamodb-local.js";
export { startFauxqsLocal, type FauxqsLocal } from "./fauxqs-local.js";
export { findFreePort } from "./free-port.js";
export { LOCAL_CREDENTIALS, LOCAL_REGION } from "./credentials.js";

export interface StartLocalAwsOptions {
  /** @default TABLE_DEFINITION.defaultTableName */
  tableName?: string;
  /** @default QUEUES_DEFINITION.defaultPrefix */
  queuePrefix?: string;
  /** @default "stageflow-blobs" */
  bucketName?: string;
  /** Fixed ports (e.g. for `npm run dev`); free ports are picked when omitted. */
  dynamoPort?: number;
  sqsS3Port?: number;
}

/** What a running local stack offers: endpoints and resource names, as plain data. */
export interface LocalAwsResources extends LocalEndpoints {
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly tableName: string;
  readonly bucketName: string;
  readonly queueUrls: JobQueueUrls;
}

/** A running local stack. Stop it with `stopLocalAws`. */
export interface LocalAws extends LocalAwsResources {
  /** @internal processes to stop */
  readonly dynamoDbLocal: DynamoDbLocal;
  readonly fauxqs: FauxqsLocal;
}

/**
 * Starts DynamoDB Local and fauxqs, then creates the engine table, the FIFO job queues with
 * their DLQ and the blob bucket from the shared definitions. The Java process is killed on every
 * exit path of this process (exit, SIGINT, SIGTERM, even SIGKILL via a watchdog).
 *
 * @example
 * const local = await startLocalAws();
 * const clients = createLocalAwsClients(local);
 * // ... createDynamoWorkflowPersistence({ client: clients.document, tableName: local.tableName })
 * await stopLocalAws(local);
 */
export async function startLocalAws(options: StartLocalAwsOptions = {}): Promise<LocalAws> {
  const tableName = options.tableName ?? TABLE_DEFINITION.defaultTableName;
  const queuePrefix = options.queuePrefix ?? QUEUES_DEFINITION.defaultPrefix;
  const bucketName = options.bucketName ?? "stageflow-blobs";
  const [dynamo, fauxqs] = await Promise.allSettled([
    startDynamoDbLocal({ port: options.dynamoPort }),
    startFauxqsLocal({ port: options.sqsS3Port }),
  ]);
  if (dynamo.status === "rejected" || fauxqs.status === "rejected") {
    if (dynamo.status === "fulfilled") await dynamo.value.stop();
    if (fauxqs.status === "fulfilled") await fauxqs.value.stop();
    throw dynamo.status === "rejected" ? dynamo.reason : (fauxqs as PromiseRejectedResult).reason;
  }
  const endpoints = { dynamoEndpoint: dynamo.value.endpoint, sqsS3Endpoint: fauxqs.value.endpoint };
  const clients = createLocalAwsClients(endpoints);
  try {
    const [, queueUrls] = await Promise.all([
      createEngineTable(clients.dynamo, tableName),
      createJobQueues(clients.sqs, queuePrefix),
      createBlobBucket(clients.s3, bucketName),
    ]);
    return {
      ...endpoints,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      tableName,
      bucketName,
      queueUrls,
      dynamoDbLocal: dynamo.value,
      fauxqs: fauxqs.value,
    };
  } catch (error) {
    await Promise.allSettled([dynamo.value.stop(), fauxqs.value.stop()]);
    throw error;
  } finally {
    clients.destroy();
  }
}

/** Stops both emulators; safe to call twice. */
export async function stopLocalAws(local: LocalAws): Promise<void> {
  await Promise.allSettled([local.dynamoDbLocal.stop(), local.fauxqs.stop()]);
}

/** The stack's resources as environment variables (names from `ENV_VARS`), for child processes. */
export function localAwsEnv(local: LocalAwsResources): Record<string, string> {
  return {
    [ENV_VARS.dynamoEndpoint]: local.dynamoEndpoint,
    [ENV_VARS.sqsS3Endpoint]: local.sqsS3Endpoint,
    [ENV_VARS.tableName]: local.tableName,
    [ENV_VARS.bucketName]: local.bucketName,
    [ENV_VARS.queueUrlHigh]: local.queueUrls.high,
    [ENV_VARS.queueUrlNormal]: local.queueUrls.normal,
    [ENV_VARS.queueUrlLow]: local.queueUrls.low,
    [ENV_VARS.deadLetterQueueUrl]: local.queueUrls.dlq,
    AWS_REGION: local.region,
    AWS_ACCESS_KEY_ID: local.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: local.credentials.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

/** Reads the resources back from `localAwsEnv` variables (in a child process). */
export function localAwsResourcesFromEnv(env: NodeJS.ProcessEnv = process.env): LocalAwsResources {
  const read = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`Environment variable ${name} is not set; start the local stack with startLocalAws()`);
    return value;
  };
  return {
    dynamoEndpoint: read(ENV_VARS.dynamoEndpoint),
    sqsS3Endpoint: read(ENV_VARS.sqsS3Endpoint),
    region: env.AWS_REGION ?? LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    tableName: read(ENV_VARS.tableName),
    bucketName: read(ENV_VARS.bucketName),
    queueUrls: {
      high: read(ENV_VARS.queueUrlHigh),
      normal: read(ENV_VARS.queueUrlNormal),
      low: read(ENV_VARS.queueUrlLow),
      dlq: read(ENV_VARS.deadLetterQueueUrl),
    },
  };
}
