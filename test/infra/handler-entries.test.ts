import { mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { handlerSourcePath, writeHandlerEntry } from "../../infra/handler-entries.js";
import { fixtureRegistry } from "./synth.js";

describe("the generated Lambda entry files", { timeout: 60_000 }, () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), "stageflow-entries-"));

  it("hand the user's registry export to the handler factory", () => {
    const file = writeHandlerEntry({ name: "worker", registryEntry: fixtureRegistry, registryExportName: "myRegistry", outDir });
    const source = readFileSync(file, "utf8");
    expect(source).toContain(`import { myRegistry as registry } from ${JSON.stringify(fixtureRegistry)}`);
    expect(source).toContain(`import { createWorkerHandler } from ${JSON.stringify(handlerSourcePath("worker"))}`);
    expect(source).toContain("export const handler = createWorkerHandler({ registry });");
  });

  it("are not rewritten when nothing changed, so asset hashes stay stable", () => {
    const options = { name: "api" as const, registryEntry: fixtureRegistry, registryExportName: "registry", outDir };
    const first = writeHandlerEntry(options);
    const writtenAt = statSync(first).mtimeMs;
    expect(writeHandlerEntry(options)).toBe(first);
    expect(statSync(first).mtimeMs).toBe(writtenAt);
  });

  it("refuse a registry file that does not exist and an export name that is not an identifier", () => {
    expect(() => writeHandlerEntry({ name: "api", registryEntry: "nope/registry.ts", registryExportName: "registry", outDir })).toThrow(/does not exist/);
    expect(() => writeHandlerEntry({ name: "api", registryEntry: fixtureRegistry, registryExportName: "default; evil()", outDir })).toThrow(/not a valid export name/);
  });

  it("point at handler sources that exist in this repository", () => {
    for (const name of ["api", "worker", "maintenance", "outbox-publisher"] as const) expect(statSync(handlerSourcePath(name)).isFile()).toBe(true);
  });
});
