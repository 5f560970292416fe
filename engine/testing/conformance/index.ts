/**
 * Port conformance suites: the checks an adapter runs to prove it honours the kernel's contract.
 * Re-exported from `stageflow/testing`.
 */
export { runPersistenceConformanceSuite } from "./persistence/suite.js";
export type { PersistenceConformanceFixture, PersistenceConformanceOptions } from "./persistence/suite.js";
export { runJobTransportConformanceSuite } from "./job-transport/suite.js";
export type {
  JobTransportCapabilities,
  JobTransportCapability,
  JobTransportConformanceFixture,
  JobTransportConformanceOptions,
} from "./job-transport/suite.js";
export { runBlobStoreConformanceSuite } from "./blob-store/suite.js";
export type { BlobStoreConformanceFixture, BlobStoreConformanceOptions } from "./blob-store/suite.js";
export type {
  ConformanceClock,
  ConformanceDescribe,
  ConformanceIt,
  ConformanceSuiteOptions,
  ConformanceTestFn,
} from "./types.js";
