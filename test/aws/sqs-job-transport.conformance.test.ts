import { afterAll, describe, it } from "vitest";
import { FakeClock } from "../../engine/kernel/testing/fake-clock.js";
import { runJobTransportConformanceSuite } from "../../engine/testing/conformance/index.js";
import { createSqsJobTransport } from "../../engine/aws/index.js";
import { createJobQueues } from "../../engine/aws/local/index.js";
import { localClients, uniqueName } from "../support/emulators/inject.js";

const clients = localClients();
afterAll(() => clients.destroy());

runJobTransportConformanceSuite({
  name: "SQS FIFO on fauxqs",
  describe,
  it,
  create: async () => {
    // SQS keeps its own time: the clock only decides when a received job is due.
    const clock = new FakeClock(new Date());
    const queueUrls = await createJobQueues(clients.sqs, uniqueName("conf"));
    const transport = createSqsJobTransport({ client: clients.sqs, queueUrls, clock, visibilityTimeoutSeconds: 30 });
    return { transport, clock, supports: {} };
  },
});
