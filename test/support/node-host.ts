import { createNodeHost, type NodeHost, type NodeHostConfig } from "../../engine/hosts/node/index.js";
import type { Harness } from "./kernel-harness.js";

/** Poll and tick intervals no test waits for: the hosts under test run on notifications alone. */
export const NEVER_MS = 600_000;

/**
 * A node host over the harness's kernel and queue that throws on any loop error, with no signal
 * handlers and no timed polling; pushed onto `started` so the test's afterEach can stop it.
 */
export function createTestHost(h: Harness, started: NodeHost[], overrides: Partial<NodeHostConfig> = {}): NodeHost {
  const host = createNodeHost({
    kernel: h.kernel,
    jobTransport: h.queue,
    workerId: "node-1",
    jobPollIntervalMs: NEVER_MS,
    orchestrationIntervalMs: NEVER_MS,
    handleSignals: false,
    onError: (error) => {
      throw error;
    },
    ...overrides,
  });
  started.push(host);
  return host;
}
