import { afterAll, beforeAll, describe, it } from "vitest";
import { FakeClock } from "../../engine/kernel/testing/fake-clock.js";
import { runPersistenceConformanceSuite } from "../../engine/testing/conformance/index.js";
import { createDynamoWorkflowPersistence } from "../../engine/aws/index.js";
import { createEngineTable } from "../../engine/aws/local/index.js";
import { localClients, uniqueName } from "../support/emulators/inject.js";

const clients = localClients();
// A table of its own: other test files leave unpublished events and runs in the shared table,
// which would crowd the suite's limited index queries.
const tableName = uniqueName("conformance");
beforeAll(() => createEngineTable(clients.dynamo, tableName));
afterAll(() => clients.destroy());

runPersistenceConformanceSuite({
  name: "DynamoDB Local",
  describe,
  it,
  create: async () => {
    const clock = new FakeClock(new Date("2025-01-01T00:00:00Z"));
    const persistence = createDynamoWorkflowPersistence({ client: clients.document, tableName, clock });
    return { persistence, clock };
  },
});
