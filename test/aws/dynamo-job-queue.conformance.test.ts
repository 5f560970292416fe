import { afterAll, describe, it } from "vitest";
import { FakeClock } from "../../engine/kernel/testing/fake-clock.js";
import { runJobTransportConformanceSuite } from "../../engine/testing/conformance/index.js";
import { createDynamoJobQueue } from "../../engine/aws/index.js";
import { localAws, localClients, uniqueName } from "../support/emulators/inject.js";

const clients = localClients();
afterAll(() => clients.destroy());

runJobTransportConformanceSuite({
  name: "DynamoDB job queue on DynamoDB Local",
  describe,
  it,
  create: async () => {
    const clock = new FakeClock(new Date("2025-01-01T00:00:00Z"));
    const transport = createDynamoJobQueue({ client: clients.document, tableName: localAws().tableName, clock, queueName: uniqueName("q") });
    return { transport, clock, supports: { priority: true, scheduling: true, staleRelease: true, listing: true } };
  },
});
