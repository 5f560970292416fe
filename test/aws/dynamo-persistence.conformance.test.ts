import { afterAll, describe, it } from "vitest";
import { FakeClock } from "../../engine/kernel/testing/fake-clock.js";
import { runPersistenceConformanceSuite } from "../../engine/testing/conformance/index.js";
import { createDynamoWorkflowPersistence } from "../../engine/aws/index.js";
import { localAws, localClients } from "../support/emulators/inject.js";

const clients = localClients();
afterAll(() => clients.destroy());

runPersistenceConformanceSuite({
  name: "DynamoDB Local",
  describe,
  it,
  create: async () => {
    const clock = new FakeClock(new Date("2025-01-01T00:00:00Z"));
    const persistence = createDynamoWorkflowPersistence({ client: clients.document, tableName: localAws().tableName, clock });
    return { persistence, clock };
  },
});
