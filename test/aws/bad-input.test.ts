import { afterAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import type { Workflow } from "../../engine/core/workflow.js";
import { ValidationError } from "../../engine/kernel/errors.js";
import {
  AwsCredentialsError,
  DynamoItemTooLargeError,
  DynamoTableNotFoundError,
  SqsQueueNotFoundError,
  createDynamoWorkflowPersistence,
  createSqsJobTransport,
} from "../../engine/aws/index.js";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "../../engine/aws/local/index.js";
import { localAws, localClients, uniqueName } from "../support/emulators/inject.js";
import { startFaultyProxy } from "./support/faulty-proxy.js";
import { createAwsTestStack } from "./support/stack.js";

const clients = localClients();
afterAll(() => clients.destroy());

const echo = defineStage({
  id: "echo",
  name: "Echo",
  schemas: { input: z.object({ text: z.string() }), output: z.object({ length: z.number() }), config: z.object({}) },
  async execute(ctx) {
    return { output: { length: ctx.input.text.length } };
  },
});
const echoWorkflow = (id: string): Workflow =>
  new WorkflowBuilder(id, "Echo", "Echo", z.object({ text: z.string() }), z.object({ length: z.number() })).pipe(echo).build() as unknown as Workflow;

const runInput = (id: string) => ({ id, workflowId: "wf", workflowName: "wf", workflowType: "t", status: "PENDING" as const, input: {}, config: {}, priority: 5 });

describe("bad input and bad infrastructure", () => {
  it("names the missing table and what to do about it", async () => {
    const persistence = createDynamoWorkflowPersistence({ client: clients.document, tableName: uniqueName("missing-table") });
    await expect(persistence.createRun(runInput(uniqueName("run")))).rejects.toBeInstanceOf(DynamoTableNotFoundError);
    await expect(persistence.getRun("x")).rejects.toThrow(/cdk deploy|buildCreateTableInput/);
  });

  it("names a missing queue", async () => {
    const base = localAws().queueUrls.normal.replace(/[^/]+$/, "");
    const missing = `${base}${uniqueName("missing")}.fifo`;
    const transport = createSqsJobTransport({ client: clients.sqs, queueUrls: { high: missing, normal: missing, low: missing } });
    await expect(
      transport.enqueue({ workflowRunId: "r", workflowId: "w", stageId: "s", attempt: 1 }),
    ).rejects.toBeInstanceOf(SqsQueueNotFoundError);
  });

  it("reports rejected credentials as AwsCredentialsError", async () => {
    const proxy = await startFaultyProxy(localAws().dynamoEndpoint, {
      status: 400,
      type: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
      times: Number.POSITIVE_INFINITY,
    });
    const client = new DynamoDBClient({ endpoint: proxy.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const persistence = createDynamoWorkflowPersistence({ client, tableName: localAws().tableName });
    await expect(persistence.createRun(runInput(uniqueName("run")))).rejects.toBeInstanceOf(AwsCredentialsError);
    client.destroy();
    await proxy.close();
  });

  it("retries throttled requests with backoff and then succeeds", async () => {
    const proxy = await startFaultyProxy(localAws().dynamoEndpoint, {
      status: 400,
      type: "ProvisionedThroughputExceededException",
      message: "Rate exceeded",
      times: 2,
    });
    const client = new DynamoDBClient({ endpoint: proxy.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 4 });
    const persistence = createDynamoWorkflowPersistence({ client, tableName: localAws().tableName });
    const id = uniqueName("run");
    await persistence.createRun(runInput(id));
    expect(proxy.faults()).toBe(2);
    expect((await persistence.getRun(id))?.id).toBe(id);
    client.destroy();
    await proxy.close();
  });

  it("leaves no half-written run when throttling outlasts the retries", async () => {
    const proxy = await startFaultyProxy(localAws().dynamoEndpoint, {
      status: 400,
      type: "ProvisionedThroughputExceededException",
      message: "Rate exceeded",
      times: Number.POSITIVE_INFINITY,
    });
    const client = new DynamoDBClient({ endpoint: proxy.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 });
    const throttled = createDynamoWorkflowPersistence({ client, tableName: localAws().tableName });
    const id = uniqueName("run");
    await expect(throttled.createRun(runInput(id))).rejects.toMatchObject({ name: "ProvisionedThroughputExceededException" });
    const direct = createDynamoWorkflowPersistence({ client: clients.document, tableName: localAws().tableName });
    expect(await direct.getRun(id)).toBeNull();
    client.destroy();
    await proxy.close();
  });

  it("refuses an item over 400 KB without a blob store, and writes nothing", async () => {
    const persistence = createDynamoWorkflowPersistence({ client: clients.document, tableName: localAws().tableName });
    const id = uniqueName("run");
    await expect(persistence.createRun({ ...runInput(id), input: { text: "x".repeat(500 * 1024) } })).rejects.toBeInstanceOf(
      DynamoItemTooLargeError,
    );
    expect(await persistence.getRun(id)).toBeNull();
  });

  it("runs a workflow whose input is over 400 KB", async () => {
    const workflowId = uniqueName("echo");
    const stack = createAwsTestStack({ resources: localAws(), workflows: [echoWorkflow(workflowId)], transport: "dynamo", queueName: uniqueName("q") });
    const text = "y".repeat(600 * 1024);
    const { workflowRunId } = await stack.kernel.dispatch({ type: "run.create", idempotencyKey: uniqueName("k"), workflowId, input: { text } });
    const job = await stack.transport.dequeue("w");
    expect(job).not.toBeNull();
    await stack.kernel.dispatch({ type: "job.execute", workflowRunId, workflowId, stageId: "echo", workerId: "w", jobId: job!.jobId });
    const run = await stack.persistence.getRun(workflowRunId);
    expect(run?.status).toBe("COMPLETED");
    expect(run?.output).toEqual({ length: text.length });
    stack.destroy();
  });

  it("moves fields that would push an item past 400 KB to the blob store and reads them back", async () => {
    const stack = createAwsTestStack({ resources: localAws(), workflows: [], transport: "dynamo" });
    const id = uniqueName("run");
    const input = { text: "z".repeat(450 * 1024) };
    await stack.persistence.createRun({ ...runInput(id), input });
    await stack.persistence.createStage({ workflowRunId: id, stageId: "wait", stageName: "Wait", stageNumber: 1, executionGroup: 1, status: "RUNNING" });
    const state = { batchId: "b", items: "s".repeat(420 * 1024) };
    const updated = await stack.persistence.updateStage(id, "wait", { status: "SUSPENDED", suspendedState: state, nextPollAt: new Date() });
    expect(updated.suspendedState).toEqual(state);
    expect((await stack.persistence.getRun(id))?.input).toEqual(input);
    expect((await stack.persistence.getStage(id, "wait"))?.suspendedState).toEqual(state);
    expect((await stack.blobStore.list(`runs/${id}/`)).length).toBe(2);
    stack.destroy();
  });

  it("rejects input that does not match the workflow's schema with a ValidationError and writes nothing", async () => {
    const workflowId = uniqueName("echo");
    const stack = createAwsTestStack({ resources: localAws(), workflows: [echoWorkflow(workflowId)], transport: "dynamo", queueName: uniqueName("q") });
    await expect(
      stack.kernel.dispatch({ type: "run.create", idempotencyKey: uniqueName("k"), workflowId, input: { text: 42 } }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect((await stack.persistence.listRuns({ workflowId })).runs).toEqual([]);
    stack.destroy();
  });
});
