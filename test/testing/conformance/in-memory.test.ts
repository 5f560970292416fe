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
  // Known failures, reported to the adapter's owner: records are shallow copies, so nested values
  // (input, config, output, outputData) are shared between callers and the store. Remove these
  // exclusions once the adapter copies nested values.
  exclude: [
    "run records are copies: mutating an input or a returned record, nested values included, changes nothing stored",
    "stage records are copies: mutating an input or a returned record, nested values included, changes nothing stored",
  ],
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
