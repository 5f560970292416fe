import { z } from "zod";
import { defineStage } from "../../engine/core/stage.js";
import { WorkflowBuilder, type Workflow } from "../../engine/core/workflow.js";
import { createBlobBucket, createEngineTable, createJobQueues, createLocalAwsClients, type LocalAwsResources } from "../../engine/aws/local/index.js";
import type { WorkflowRegistry } from "../../engine/kernel/ports.js";
import { workflows as exampleWorkflows } from "../../examples/registry.js";
import { shoutWorkflow } from "../api/fixtures.js";
import { localAws, uniqueName } from "../support/emulators/inject.js";

/** A table, job queues and a bucket of this test file's own on the shared emulators. */
export async function provisionIsolatedResources(): Promise<LocalAwsResources> {
  const shared = localAws();
  const clients = createLocalAwsClients(shared);
  try {
    const tableName = uniqueName("sf");
    const bucketName = uniqueName("sf-blobs").toLowerCase();
    const [, queueUrls] = await Promise.all([
      createEngineTable(clients.dynamo, tableName),
      createJobQueues(clients.sqs, uniqueName("sf-jobs")),
      createBlobBucket(clients.s3, bucketName),
    ]);
    return { ...shared, tableName, bucketName, queueUrls };
  } finally {
    clients.destroy();
  }
}

/** A stage that takes a while, so there is time to cancel the run under it. */
const wait = defineStage({
  id: "wait",
  name: "Wait",
  schemas: { input: z.object({ ms: z.number() }), output: z.object({ waited: z.number() }), config: z.object({}) },
  async execute(ctx) {
    await new Promise((resolve) => setTimeout(resolve, ctx.input.ms));
    return { output: { waited: ctx.input.ms } };
  },
});
const after = defineStage({
  id: "after",
  name: "After",
  schemas: { input: z.object({ waited: z.number() }), output: z.object({ done: z.boolean() }), config: z.object({}) },
  async execute() {
    return { output: { done: true } };
  },
});
export const slowWorkflow = new WorkflowBuilder("slow", "Slow", "Waits, then finishes", z.object({ ms: z.number() }), z.object({ done: z.boolean() }))
  .pipe(wait)
  .pipe(after)
  .build();

const all = [...exampleWorkflows, shoutWorkflow, slowWorkflow] as unknown as Workflow[];

/** The examples plus small workflows for cancel and rerun. */
export const stackRegistry: WorkflowRegistry = {
  getWorkflow: (id) => all.find((w) => w.id === id),
  listWorkflows: () => all,
};

export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
