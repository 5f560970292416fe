import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../engine/kernel/testing/fake-clock.js";
import {
  runJobTransportConformanceSuite,
  runPersistenceConformanceSuite,
  type ConformanceIt,
  type ConformanceTestFn,
} from "../../../engine/testing/conformance/index.js";
import { InMemoryJobQueue } from "../../../engine/testing/in-memory-job-queue.js";
import { InMemoryWorkflowPersistence } from "../../../engine/testing/in-memory-persistence.js";

interface Registered {
  path: string;
  skipped: boolean;
  body: ConformanceTestFn;
}

/** A framework stand-in that records what the suites register. */
function recorder(withSkip: boolean) {
  const stack: string[] = [];
  const registered: Registered[] = [];
  const describeFn = (name: string, fn: () => void) => {
    stack.push(name);
    fn();
    stack.pop();
  };
  const add = (skipped: boolean) => (name: string, body: ConformanceTestFn) =>
    registered.push({ path: [...stack, name].join(" > "), skipped, body });
  const itFn: ConformanceIt = Object.assign(add(false), withSkip ? { skip: add(true) } : {});
  return { describe: describeFn, it: itFn, registered };
}

const queueFixture = async () => {
  const clock = new FakeClock();
  return { transport: new InMemoryJobQueue({ clock }), clock };
};

describe("conformance suite registration", () => {
  it("registers every case under the suite and group names, with unique titles", () => {
    const { describe, it, registered } = recorder(true);
    runPersistenceConformanceSuite({
      name: "recorded",
      describe,
      it,
      create: async () => ({ persistence: new InMemoryWorkflowPersistence(), clock: new FakeClock() }),
    });
    expect(registered.length).toBeGreaterThan(50);
    expect(registered.every((r) => r.path.startsWith("Persistence conformance: recorded > "))).toBe(true);
    expect(new Set(registered.map((r) => r.path)).size).toBe(registered.length);
    expect(registered.some((r) => r.skipped)).toBe(false);
  });

  it("registers excluded cases with it.skip, or leaves them out when the framework has no skip", () => {
    const title = "a leased job is not delivered to a second dequeue";
    const withSkip = recorder(true);
    runJobTransportConformanceSuite({ name: "q", describe: withSkip.describe, it: withSkip.it, exclude: [title], create: queueFixture });
    expect(withSkip.registered.filter((r) => r.skipped).map((r) => r.path)).toEqual([`JobTransport conformance: q > delivery > ${title}`]);

    const withoutSkip = recorder(false);
    runJobTransportConformanceSuite({ name: "q", describe: withoutSkip.describe, it: withoutSkip.it, exclude: [title], create: queueFixture });
    expect(withoutSkip.registered.some((r) => r.path.endsWith(title))).toBe(false);
    expect(withoutSkip.registered.length).toBe(withSkip.registered.length - 1);
  });

  it("skips a case through the test context when the fixture lacks the capability, and cleans up", async () => {
    const { describe, it, registered } = recorder(true);
    let cleanups = 0;
    runJobTransportConformanceSuite({
      name: "q",
      describe,
      it,
      create: async () => ({ ...(await queueFixture()), supports: { priority: false }, cleanup: () => void cleanups++ }),
    });
    const priorityCase = registered.find((r) => r.path.includes("> priority >"));
    expect(priorityCase).toBeDefined();
    let skipped = 0;
    const skip = () => void skipped++;
    await priorityCase?.body({ skip }); // node:test's context is a plain object
    await priorityCase?.body(Object.assign(() => undefined, { skip })); // vitest 4's is a function object
    expect(skipped).toBe(2);
    expect(cleanups).toBe(2);
  });

  it("cleans up after a failing case", async () => {
    const { describe, it, registered } = recorder(true);
    let cleanups = 0;
    runPersistenceConformanceSuite({
      name: "broken",
      describe,
      it,
      create: async () => {
        const persistence = new InMemoryWorkflowPersistence();
        persistence.createRun = async () => {
          throw new Error("broken adapter");
        };
        return { persistence, clock: new FakeClock(), cleanup: () => void cleanups++ };
      },
    });
    const first = registered.find((r) => r.path.includes("createRun returns the stored run"));
    await expect(first?.body()).rejects.toThrow("broken adapter");
    expect(cleanups).toBe(1);
  });

  it("loads no test framework: the suites only use node:assert", () => {
    const root = join(import.meta.dirname, "../../../engine/testing/conformance");
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith(".ts")) files.push(path);
      }
    };
    walk(root);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const source = readFileSync(file, "utf8").replace(/\/\*\*[\s\S]*?\*\//g, "");
      expect(source, file).not.toMatch(/from "(vitest|jest|@jest\/globals|mocha|node:test)/);
    }
  });
});
