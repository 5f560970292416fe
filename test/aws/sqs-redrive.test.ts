import { afterAll, describe, expect, it } from "vitest";
import { createSqsJobTransport } from "../../engine/aws/index.js";
import { createJobQueues } from "../../engine/aws/local/index.js";
import { localClients, uniqueName } from "../support/emulators/inject.js";

const clients = localClients();
afterAll(() => clients.destroy());

const job = { workflowRunId: "run-1", workflowId: "wf", stageId: "stage-a", attempt: 1 };

async function dequeueSoon(transport: ReturnType<typeof createSqsJobTransport>) {
  for (let i = 0; i < 10; i++) {
    const received = await transport.dequeue("w");
    if (received) return received;
  }
  return null;
}

describe("re-driving a lost job on SQS FIFO", () => {
  it("delivers a re-driven job even inside the 5-minute de-duplication window, where a plain re-enqueue is dropped", async () => {
    const queueUrls = await createJobQueues(clients.sqs, uniqueName("redrive"));
    const transport = createSqsJobTransport({ client: clients.sqs, queueUrls, visibilityTimeoutSeconds: 30 });
    await transport.enqueue(job);
    const first = await dequeueSoon(transport);
    expect(first?.stageId).toBe("stage-a");
    // The job is consumed (or, in the crash case, dead-lettered): SQS still remembers its id.
    await transport.complete(first!.jobId);

    await transport.enqueue(job);
    expect(await dequeueSoon(transport)).toBeNull();

    await transport.enqueue({ ...job, redrive: true });
    const redriven = await dequeueSoon(transport);
    expect(redriven).toMatchObject({ workflowRunId: "run-1", stageId: "stage-a", attempt: 1 });
  });
});
