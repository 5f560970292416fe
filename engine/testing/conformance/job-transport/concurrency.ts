/** Many workers racing for jobs never lease one job twice. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { sleep } from "../support.js";
import { jobInput, jobKey, type JobTransportCapability, type JobTransportConformanceFixture } from "./fixture.js";

const WORKERS = 8;
const RUNS = 10;
const STAGES_PER_RUN = 5;
const DEADLINE_MS = 30_000;

export const concurrencyCases: ConformanceGroup<JobTransportConformanceFixture, JobTransportCapability> = {
  name: "concurrency",
  cases: [
    {
      name: `${WORKERS} concurrent dequeuers over ${RUNS * STAGES_PER_RUN} jobs never get the same job twice`,
      async run({ transport }) {
        const inputs = Array.from({ length: RUNS }, () => jobInput().workflowRunId).flatMap((workflowRunId) =>
          Array.from({ length: STAGES_PER_RUN }, (_, i) => jobInput({ workflowRunId, stageId: `stage-${i}` })),
        );
        const runs = new Set(inputs.map((j) => j.workflowRunId));
        await transport.enqueueParallel(inputs);

        const deliveries = new Map<string, string[]>();
        const deadline = Date.now() + DEADLINE_MS;
        const worker = async (workerId: string): Promise<void> => {
          while (deliveries.size < inputs.length && Date.now() < deadline) {
            const job = await transport.dequeue(workerId);
            if (job === null) {
              await sleep(5);
              continue;
            }
            if (!runs.has(job.workflowRunId)) continue; // another case's job on a shared queue
            const key = jobKey(job);
            deliveries.set(key, [...(deliveries.get(key) ?? []), workerId]);
            await sleep(Math.floor(Math.random() * 3));
            await transport.complete(job.jobId);
          }
        };
        await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(`worker-${i}`)));

        const twice = [...deliveries].filter(([, workers]) => workers.length > 1);
        assert.deepEqual(twice, [], "jobs delivered more than once (job, workers)");
        assert.equal(deliveries.size, inputs.length, `${inputs.length - deliveries.size} jobs never delivered`);
      },
    },
  ],
};
