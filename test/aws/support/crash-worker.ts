/**
 * A worker process for the crash-safety test: a node host on DynamoDB Local + fauxqs (SQS FIFO),
 * configured from the environment. The test kills it with SIGKILL at random moments.
 */
import { createNodeHost } from "../../../engine/hosts/node/index.js";
import { localAwsResourcesFromEnv } from "../../../engine/aws/local/index.js";
import { createAwsTestStack } from "./stack.js";
import { fiveStageWorkflow } from "./workflows.js";

const workerId = process.env.STAGEFLOW_WORKER_ID ?? `worker-${process.pid}`;
const resources = localAwsResourcesFromEnv();
const queueUrls = JSON.parse(process.env.CRASH_TEST_QUEUE_URLS ?? "null") ?? resources.queueUrls;
const stack = createAwsTestStack({
  resources,
  queueUrls,
  workflows: [fiveStageWorkflow(Number(process.env.CRASH_TEST_STAGE_DELAY_MS ?? 20))],
  transport: "sqs",
  workerId,
  sqsVisibilityTimeoutSeconds: 2,
  kernel: { leaseMs: 1500, heartbeatIntervalMs: 400 },
});
const host = createNodeHost({
  kernel: stack.kernel,
  jobTransport: stack.transport,
  workerId,
  concurrency: 4,
  jobPollIntervalMs: 20,
  orchestrationIntervalMs: 300,
  staleLeaseThresholdMs: 3000,
  // A job lost to the DLQ after repeated kills is re-driven soon instead of after a minute.
  stuckRunThresholdMs: 5000,
  handleSignals: true,
  onError: () => undefined,
});
await host.start();
process.stdout.write("ready\n");
