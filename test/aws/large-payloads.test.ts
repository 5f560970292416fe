import { afterAll, describe, expect, it } from "vitest";
import { isBlobReference } from "../../engine/kernel/records.js";
import { localAws, uniqueName } from "../support/emulators/inject.js";
import { createAwsTestStack } from "./support/stack.js";
import { largeOutputWorkflow } from "./support/workflows.js";

describe("large stage outputs on DynamoDB + S3", () => {
  const stack = createAwsTestStack({
    resources: localAws(),
    workflows: [largeOutputWorkflow()],
    transport: "dynamo",
    queueName: uniqueName("large"),
  });
  afterAll(() => stack.destroy());

  it("completes a 1 MB and a 10 MB stage and the next stage reads both back", async () => {
    const { workflowRunId } = await stack.kernel.dispatch({
      type: "run.create",
      idempotencyKey: uniqueName("key"),
      workflowId: "large-outputs",
      input: { seed: "abc" },
    });
    for (let i = 0; i < 20; i++) {
      const job = await stack.transport.dequeue("w1");
      if (!job) break;
      await stack.kernel.dispatch({ type: "job.execute", workflowRunId, workflowId: job.workflowId, stageId: job.stageId, workerId: "w1", jobId: job.jobId });
      await stack.transport.complete(job.jobId);
    }
    const run = await stack.persistence.getRun(workflowRunId);
    expect(run?.status).toBe("COMPLETED");
    expect(run?.output).toEqual({ oneMb: 1024 * 1024, tenMb: 10 * 1024 * 1024, sameSeed: true });

    const stages = await stack.persistence.getStagesByRun(workflowRunId);
    const big = stages.find((s) => s.stageId === "ten-mb");
    expect(isBlobReference(big?.outputData)).toBe(true);
    const small = stages.find((s) => s.stageId === "measure");
    expect(isBlobReference(small?.outputData)).toBe(false);
  });
});
