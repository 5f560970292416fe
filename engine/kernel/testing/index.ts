export { FakeClock, systemClock, systemTimers } from "./fake-clock.js";
export { InMemoryBlobStore } from "./in-memory-blob-store.js";
export { CollectingEventSink } from "./collecting-event-sink.js";
export { NoopScheduler, type ScheduledCommand } from "./noop-scheduler.js";
