/**
 * The one source of truth for stageflow's AWS resources: the DynamoDB table and the SQS queues.
 *
 * Everything here is plain data, so three consumers read the same facts:
 * - the adapters (key names, index names, queue names),
 * - `engine/aws/local` and the tests (CreateTable / CreateQueue inputs for the emulators),
 * - the CDK `WorkflowEngine` construct in `infra/` (table, GSIs, TTL, stream, queues, DLQ, redrive).
 *
 * Exported names are stable: `infra/` depends on them. Add fields, do not rename.
 * Key layout and access patterns: `docs/aws-table-design.md`.
 */
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import type { CreateQueueCommandInput } from "@aws-sdk/client-sqs";

// DynamoDB table ------------------------------------------------------------------------------

/** A key attribute: DynamoDB attribute name and scalar type. */
export interface KeyAttributeDefinition {
  readonly name: string;
  readonly type: "S" | "N";
}

/** A global secondary index of the engine table. */
export interface GlobalSecondaryIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttributeDefinition;
  readonly sortKey: KeyAttributeDefinition;
  /**
   * Indexes project keys only: an update that leaves an index's keys alone then costs no index
   * write (runs and stages are updated many times per run), and readers fetch the few items a
   * query finds with one BatchGetItem.
   */
  readonly projection: "KEYS_ONLY" | "ALL";
  /** What the index serves, for humans and the docs. */
  readonly purpose: string;
}

/** The engine table: single-table design, on-demand capacity, TTL and a stream for the outbox publisher. */
export interface TableDefinition {
  /** Default physical name (CDK may generate its own; adapters take the name as an option). */
  readonly defaultTableName: string;
  readonly partitionKey: KeyAttributeDefinition;
  readonly sortKey: KeyAttributeDefinition;
  readonly billingMode: "PAY_PER_REQUEST";
  /** Epoch seconds; set on idempotency records, published events, released locks and finished jobs. */
  readonly timeToLiveAttribute: string;
  /** The outbox publisher (DynamoDB Streams → EventBridge) needs only the new image of EVENT items. */
  readonly streamViewType: "NEW_IMAGE";
  readonly pointInTimeRecovery: boolean;
  readonly globalSecondaryIndexes: readonly GlobalSecondaryIndexDefinition[];
}

/** The engine table. */
export const TABLE_DEFINITION: TableDefinition = {
  defaultTableName: "stageflow",
  partitionKey: { name: "pk", type: "S" },
  sortKey: { name: "sk", type: "S" },
  billingMode: "PAY_PER_REQUEST",
  timeToLiveAttribute: "expiresAt",
  streamViewType: "NEW_IMAGE",
  pointInTimeRecovery: true,
  globalSecondaryIndexes: [
    {
      indexName: "gsi1",
      partitionKey: { name: "gsi1pk", type: "S" },
      sortKey: { name: "gsi1sk", type: "S" },
      projection: "KEYS_ONLY",
      purpose:
        "Work index (sparse): runs by status, suspended stages due by time, running stages by lease expiry, " +
        "unpublished and dead-lettered outbox events, queued and leased jobs of the DynamoDB job queue",
    },
    {
      indexName: "gsi2",
      partitionKey: { name: "gsi2pk", type: "S" },
      sortKey: { name: "gsi2sk", type: "S" },
      projection: "KEYS_ONLY",
      purpose: "Runs of one workflow, newest first",
    },
    {
      indexName: "gsi3",
      partitionKey: { name: "gsi3pk", type: "S" },
      sortKey: { name: "gsi3sk", type: "S" },
      projection: "KEYS_ONLY",
      purpose: "All runs, newest first (listRuns without a workflow filter)",
    },
    {
      indexName: "gsi4",
      partitionKey: { name: "gsi4pk", type: "S" },
      sortKey: { name: "gsi4sk", type: "S" },
      projection: "KEYS_ONLY",
      purpose:
        "Outbox index (sparse): runs that have unpublished events. The entry sits on the run's hot item and " +
        "goes when the run's publish watermark reaches its last event, so events need no index entry of their own",
    },
  ],
};

/** Index names by role, so adapters never spell them. */
export const INDEX = {
  work: "gsi1",
  runsByWorkflow: "gsi2",
  runsByTime: "gsi3",
  outbox: "gsi4",
} as const;

/**
 * The work index spreads each hot bucket (e.g. "RUNNING stages", "unpublished events") over this
 * many partition keys, so no single GSI partition takes every write. Readers query all shards and
 * merge. Changing it needs a migration of the existing index keys.
 */
export const WORK_INDEX_SHARDS = 4;

/** How long records stay before TTL removes them. */
export const RETENTION = {
  /** Completed idempotency records (a retried command within this window gets the same result). */
  idempotencySeconds: 7 * 24 * 3600,
  /**
   * Published outbox events (the stream and EventBridge already carried them). No longer used by
   * the adapters: publishing moves a per-run watermark instead of rewriting each event, so events
   * get their TTL when written (`eventSeconds`). Kept for compatibility.
   */
  publishedEventSeconds: 3 * 24 * 3600,
  /**
   * Outbox events (and the publish marks `PUB#…`) expire this long after they were written. An
   * event whose publishing failed (retry count, dead letter) loses its TTL, so only an event that
   * no publisher even tried for this long could expire unpublished.
   */
  eventSeconds: 30 * 24 * 3600,
  /** Finished jobs of the DynamoDB job queue. */
  finishedJobSeconds: 24 * 3600,
} as const;

/** DynamoDB's hard item limit and the guard the adapters keep below it. */
export const DYNAMO_LIMITS = {
  maxItemBytes: 400 * 1024,
  /** Items are refused (or their payloads offloaded) above this, leaving room for keys and metadata. */
  safeItemBytes: 350 * 1024,
  maxTransactItems: 100,
} as const;

/** CreateTable input for the SDK (emulators, scripts); CDK builds the same table from TABLE_DEFINITION. */
export function buildCreateTableInput(tableName: string = TABLE_DEFINITION.defaultTableName): CreateTableCommandInput {
  const keyAttributes = [
    TABLE_DEFINITION.partitionKey,
    TABLE_DEFINITION.sortKey,
    ...TABLE_DEFINITION.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: TABLE_DEFINITION.billingMode,
    AttributeDefinitions: keyAttributes.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
    KeySchema: [
      { AttributeName: TABLE_DEFINITION.partitionKey.name, KeyType: "HASH" },
      { AttributeName: TABLE_DEFINITION.sortKey.name, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: TABLE_DEFINITION.globalSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: "HASH" },
        { AttributeName: index.sortKey.name, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: index.projection },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE_DEFINITION.streamViewType },
  };
}

// SQS queues ----------------------------------------------------------------------------------

/** Job priority lanes; workers read them in this order. */
export type QueuePriority = "high" | "normal" | "low";

export const QUEUE_PRIORITIES: readonly QueuePriority[] = ["high", "normal", "low"];

/** One FIFO job queue (or the DLQ). */
export interface QueueDefinition {
  /** Suffix of the physical name: `<prefix>-<nameSuffix>.fifo`. */
  readonly nameSuffix: string;
  readonly fifo: true;
  /**
   * Content-based de-duplication stays off: every message carries an explicit
   * MessageDeduplicationId of (run, stage, attempt), so two nudges with different payloads still
   * de-duplicate.
   */
  readonly contentBasedDeduplication: false;
  /** Lease of a received job; the worker extends it (ChangeMessageVisibility) while a stage runs. */
  readonly visibilityTimeoutSeconds: number;
  /** Long polling on receive, to cut empty receives (and their cost). */
  readonly receiveWaitTimeSeconds: number;
  readonly messageRetentionSeconds: number;
}

/** The job queues: one FIFO queue per priority and a FIFO dead-letter queue. */
export interface QueuesDefinition {
  readonly defaultPrefix: string;
  readonly jobQueues: Readonly<Record<QueuePriority, QueueDefinition>>;
  readonly deadLetterQueue: QueueDefinition;
  /**
   * Receives before a message moves to the DLQ. A receive that only defers a job (scheduledFor,
   * suspend, retry backoff: visibility changed on receipt) also counts, so this is above the
   * default stage attempt limit (3) with room for deferrals.
   */
  readonly maxReceiveCount: number;
  /** Numeric run priority (1..10) → lane: `>= high` is high, `<= low` is low, else normal. */
  readonly priorityThresholds: { readonly high: number; readonly low: number };
}

const jobQueue = (nameSuffix: string): QueueDefinition => ({
  nameSuffix,
  fifo: true,
  contentBasedDeduplication: false,
  visibilityTimeoutSeconds: 60,
  receiveWaitTimeSeconds: 20,
  messageRetentionSeconds: 14 * 24 * 3600,
});

/** The job queues. */
export const QUEUES_DEFINITION: QueuesDefinition = {
  defaultPrefix: "stageflow-jobs",
  jobQueues: {
    high: jobQueue("high"),
    normal: jobQueue("normal"),
    low: jobQueue("low"),
  },
  deadLetterQueue: jobQueue("dlq"),
  maxReceiveCount: 10,
  priorityThresholds: { high: 7, low: 3 },
};

/** Physical FIFO queue name for a lane or the DLQ. */
export function queueName(priority: QueuePriority | "dlq", prefix: string = QUEUES_DEFINITION.defaultPrefix): string {
  return `${prefix}-${priority}.fifo`;
}

/** The lane a numeric run priority goes to. */
export function priorityLane(priority: number | undefined): QueuePriority {
  const value = priority ?? 5;
  if (value >= QUEUES_DEFINITION.priorityThresholds.high) return "high";
  if (value <= QUEUES_DEFINITION.priorityThresholds.low) return "low";
  return "normal";
}

function queueAttributes(definition: QueueDefinition): Record<string, string> {
  return {
    FifoQueue: "true",
    ContentBasedDeduplication: String(definition.contentBasedDeduplication),
    VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
    ReceiveMessageWaitTimeSeconds: String(definition.receiveWaitTimeSeconds),
    MessageRetentionPeriod: String(definition.messageRetentionSeconds),
  };
}

/** CreateQueue input of the DLQ; create it first, its ARN goes into the lanes' redrive policy. */
export function buildCreateDeadLetterQueueInput(prefix: string = QUEUES_DEFINITION.defaultPrefix): CreateQueueCommandInput {
  return { QueueName: queueName("dlq", prefix), Attributes: queueAttributes(QUEUES_DEFINITION.deadLetterQueue) };
}

/** CreateQueue input of a priority lane, redriving to the DLQ after `maxReceiveCount` receives. */
export function buildCreateJobQueueInput(
  priority: QueuePriority,
  deadLetterQueueArn: string,
  prefix: string = QUEUES_DEFINITION.defaultPrefix,
): CreateQueueCommandInput {
  return {
    QueueName: queueName(priority, prefix),
    Attributes: {
      ...queueAttributes(QUEUES_DEFINITION.jobQueues[priority]),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: deadLetterQueueArn,
        maxReceiveCount: QUEUES_DEFINITION.maxReceiveCount,
      }),
    },
  };
}

// S3 and EventBridge --------------------------------------------------------------------------

/** Blob bucket layout. */
export const BLOB_DEFINITION = {
  /** Every run's blobs live under `runs/<runId>/`, so a run's blobs are one prefix. */
  runPrefix: "runs/",
  /** JSON above this many bytes goes to S3; smaller stays inline in the DynamoDB item. */
  inlineThresholdBytes: 64 * 1024,
} as const;

/** EventBridge event shape. */
export const EVENT_DEFINITION = {
  /** `source` of every stageflow event; `detail-type` is the kernel event type (e.g. `stage:completed`). */
  source: "stageflow",
  defaultBusName: "default",
} as const;

/** Environment variables the Lambdas and hosts read the resource names from (set by the CDK construct). */
export const ENV_VARS = {
  tableName: "STAGEFLOW_TABLE_NAME",
  bucketName: "STAGEFLOW_BUCKET_NAME",
  eventBusName: "STAGEFLOW_EVENT_BUS_NAME",
  queueUrlHigh: "STAGEFLOW_QUEUE_URL_HIGH",
  queueUrlNormal: "STAGEFLOW_QUEUE_URL_NORMAL",
  queueUrlLow: "STAGEFLOW_QUEUE_URL_LOW",
  deadLetterQueueUrl: "STAGEFLOW_DLQ_URL",
  schedulerGroupName: "STAGEFLOW_SCHEDULE_GROUP",
  schedulerTargetArn: "STAGEFLOW_SCHEDULE_TARGET_ARN",
  schedulerRoleArn: "STAGEFLOW_SCHEDULE_ROLE_ARN",
  /** Local emulators: one endpoint for DynamoDB, one for SQS + S3. */
  dynamoEndpoint: "STAGEFLOW_DYNAMODB_ENDPOINT",
  sqsS3Endpoint: "STAGEFLOW_SQS_S3_ENDPOINT",
} as const;

/** EventBridge Scheduler one-time schedules (wake-ups of suspended stages). */
export const SCHEDULER_DEFINITION = {
  defaultGroupName: "stageflow",
  /** One-time schedules delete themselves after they fire, so no cleanup job is needed. */
  actionAfterCompletion: "DELETE",
  /** Scheduler may fire within this window after runAt; wake-ups tolerate it. */
  flexibleTimeWindowMinutes: 0,
} as const;
