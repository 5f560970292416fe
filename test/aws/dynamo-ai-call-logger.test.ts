import { afterAll, describe, expect, it } from "vitest";
import { createDynamoAICallLogger, createDynamoWorkflowPersistence } from "../../engine/aws/index.js";
import { stageTopic, type CreateAICallInput } from "../../engine/core/ai-call-logger.js";
import { localAws, localClients, uniqueName } from "../support/emulators/inject.js";

const clients = localClients();
afterAll(() => clients.destroy());

const call = (topic: string, overrides: Partial<CreateAICallInput> = {}): CreateAICallInput => ({
  topic,
  callType: "text",
  modelKey: "openai/gpt-4.1-mini",
  modelId: "gpt-4.1-mini",
  prompt: "Summarize",
  response: "Done",
  inputTokens: 100,
  outputTokens: 20,
  cost: 0.001,
  ...overrides,
});

describe("DynamoDB AI-call logger", () => {
  const tableName = () => localAws().tableName;

  it("adds each call's cost and tokens to the stage and run totals atomically", async () => {
    const persistence = createDynamoWorkflowPersistence({ client: clients.document, tableName: tableName() });
    const logger = createDynamoAICallLogger({ client: clients.document, tableName: tableName() });
    const runId = uniqueName("run");
    await persistence.createRun({ id: runId, workflowId: "wf", workflowName: "wf", workflowType: "t", status: "RUNNING", input: {}, config: {}, priority: 5 });
    await persistence.createStage({ workflowRunId: runId, stageId: "summarize", stageName: "Summarize", stageNumber: 1, executionGroup: 1, status: "RUNNING" });

    await Promise.all(Array.from({ length: 20 }, () => logger.logCall(call(stageTopic(runId, "summarize")))));

    const run = await persistence.getRun(runId);
    expect(run?.totalTokens).toBe(20 * 120);
    expect(run?.totalCost).toBeCloseTo(0.02, 10);
    const stats = await logger.getStats(stageTopic(runId, "summarize"));
    expect(stats.totalCalls).toBe(20);
    expect(stats.totalTokens).toBe(2400);
    expect(stats.perModel["openai/gpt-4.1-mini"].calls).toBe(20);
  });

  it("aggregates by topic prefix at dot boundaries only", async () => {
    const logger = createDynamoAICallLogger({ client: clients.document, tableName: tableName() });
    const runId = uniqueName("run");
    await logger.logCall(call(stageTopic(runId, "sum"), { cost: 1 }));
    await logger.logCall(call(stageTopic(runId, "summary"), { cost: 2, modelKey: "anthropic/claude" }));
    expect((await logger.getStats(stageTopic(runId, "sum"))).totalCost).toBe(1);
    const run = await logger.getStats(`workflow.${runId}.`);
    expect(run.totalCost).toBe(3);
    expect(Object.keys(run.perModel).sort()).toEqual(["anthropic/claude", "openai/gpt-4.1-mini"]);
  });

  it("records a provider batch's results once even if the resumed stage logs them again", async () => {
    const logger = createDynamoAICallLogger({ client: clients.document, tableName: tableName() });
    const runId = uniqueName("run");
    const batchId = uniqueName("batch");
    const results = [call(stageTopic(runId, "b")), call(stageTopic(runId, "b"))];
    expect(await logger.isRecorded(batchId)).toBe(false);
    await logger.logBatchResults(batchId, results);
    await logger.logBatchResults(batchId, results);
    expect(await logger.isRecorded(batchId)).toBe(true);
    expect((await logger.getStats(stageTopic(runId, "b"))).totalCalls).toBe(2);
  });

  it("returns empty stats for a topic without calls", async () => {
    const logger = createDynamoAICallLogger({ client: clients.document, tableName: tableName() });
    expect((await logger.getStats(`workflow.${uniqueName("run")}`)).totalCalls).toBe(0);
  });
});
