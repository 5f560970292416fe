export { InMemoryWorkflowPersistence } from "./in-memory-persistence.js";
export { InMemoryJobQueue, jobIdFor, type InMemoryJobQueueOptions } from "./in-memory-job-queue.js";
export { FakeClock, InMemoryBlobStore, CollectingEventSink, NoopScheduler } from "../kernel/testing/index.js";
export { InMemoryAICallLogger } from "./in-memory-ai-call-logger.js";
export * from "./conformance/index.js";
