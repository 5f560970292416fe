import { describe, it } from "vitest";
import { FakeClock } from "../../../engine/kernel/testing/fake-clock.js";
import { InMemoryBlobStore } from "../../../engine/kernel/testing/in-memory-blob-store.js";
import {
  runBlobStoreConformanceSuite,
  runJobTransportConformanceSuite,
  runPersistenceConformanceSuite,
} from "../../../engine/testing/conformance/index.js";
import { InMemoryJobQueue } from "../../../engine/testing/in-memory-job-queue.js";
import { InMemoryWorkflowPersistence } from "../../../engine/testing/in-memory-persistence.js";

runPersistenceConformanceSuite({
  name: "InMemoryWorkflowPersistence",
  describe,
  it,
  create: async () => {
    const clock = new FakeClock();
    return { persistence: new InMemoryWorkflowPersistence({ clock }), clock };
  },
});

runJobTransportConformanceSuite({
  name: "InMemoryJobQueue",
  describe,
  it,
  create: async () => {
    const clock = new FakeClock();
    return {
      transport: new InMemoryJobQueue({ clock }),
      clock,
      supports: { priority: true, scheduling: true, staleRelease: true, listing: true },
    };
  },
});

runBlobStoreConformanceSuite({
  name: "InMemoryBlobStore",
  describe,
  it,
  create: async () => ({ blobStore: new InMemoryBlobStore() }),
});
