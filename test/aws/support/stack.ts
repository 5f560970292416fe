/**
 * A kernel on the local emulators: DynamoDB persistence, S3 blobs and either the DynamoDB job
 * queue (node host) or the SQS FIFO transport. Used by the tests in test/aws and their child
 * worker processes.
 */
import { createKernel, type Kernel, type KernelConfig } from "../../../engine/kernel/index.js";
import type { Clock, JobTransport } from "../../../engine/kernel/ports.js";
import { CollectingEventSink, NoopScheduler } from "../../../engine/kernel/testing/index.js";
import type { Workflow } from "../../../engine/core/workflow.js";
import {
  createDynamoJobQueue,
  createDynamoWorkflowPersistence,
  createS3BlobStore,
  createSqsJobTransport,
} from "../../../engine/aws/index.js";
import { createLocalAwsClients, type LocalAwsClients, type LocalAwsResources } from "../../../engine/aws/local/index.js";

export interface AwsTestStack {
  kernel: Kernel;
  transport: JobTransport;
  persistence: ReturnType<typeof createDynamoWorkflowPersistence>;
  blobStore: ReturnType<typeof createS3BlobStore>;
  sink: CollectingEventSink;
  clients: LocalAwsClients;
  destroy(): void;
}

export interface AwsTestStackOptions {
  resources: LocalAwsResources;
  workflows: Workflow[];
  transport: "dynamo" | "sqs";
  workerId?: string;
  /** Separate DynamoDB job queue per test. */
  queueName?: string;
  /** SQS queue URLs, when a test wants its own queues. */
  queueUrls?: LocalAwsResources["queueUrls"];
  clock?: Clock;
  kernel?: Partial<KernelConfig>;
  sqsVisibilityTimeoutSeconds?: number;
}

export function createAwsTestStack(options: AwsTestStackOptions): AwsTestStack {
  const clients = createLocalAwsClients(options.resources);
  const clock = options.clock ?? { now: () => new Date() };
  const blobStore = createS3BlobStore({ client: clients.s3, bucket: options.resources.bucketName });
  const persistence = createDynamoWorkflowPersistence({
    client: clients.document,
    tableName: options.resources.tableName,
    clock,
    blobStore,
  });
  const transport =
    options.transport === "dynamo"
      ? createDynamoJobQueue({ client: clients.document, tableName: options.resources.tableName, clock, queueName: options.queueName })
      : createSqsJobTransport({
          client: clients.sqs,
          queueUrls: options.queueUrls ?? options.resources.queueUrls,
          clock,
          visibilityTimeoutSeconds: options.sqsVisibilityTimeoutSeconds,
        });
  const sink = new CollectingEventSink();
  const byId = new Map(options.workflows.map((w) => [w.id, w]));
  const kernel = createKernel({
    persistence,
    blobStore,
    jobTransport: transport,
    eventSink: sink,
    scheduler: new NoopScheduler(),
    clock,
    workerId: options.workerId ?? "test-worker",
    registry: { getWorkflow: (id) => byId.get(id), listWorkflows: () => [...byId.values()] },
    ...options.kernel,
  });
  return { kernel, transport, persistence, blobStore, sink, clients, destroy: () => clients.destroy() };
}

/** Polls until every run is COMPLETED, FAILED or CANCELLED (or the deadline passes). */
export async function waitForRuns(
  persistence: AwsTestStack["persistence"],
  runIds: readonly string[],
  deadlineMs: number,
): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  const end = Date.now() + deadlineMs;
  for (;;) {
    const pending = runIds.filter((id) => !["COMPLETED", "FAILED", "CANCELLED"].includes(statuses.get(id) ?? ""));
    if (pending.length === 0) break;
    for (const id of pending) statuses.set(id, (await persistence.getRun(id))?.status ?? "MISSING");
    if (Date.now() >= end) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return statuses;
}
