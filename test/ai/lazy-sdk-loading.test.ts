import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const SDKS = ["/node_modules/openai/", "/node_modules/@anthropic-ai/sdk/", "/node_modules/@google/genai/"];

/**
 * Runs `script` in a fresh Node process (TypeScript through tsx) and returns the provider SDKs its
 * module graph contained after each `snapshot("<label>")` call.
 */
async function sdksLoadedIn(script: string): Promise<Record<string, string[]>> {
  const prelude = `
    const snapshots = {};
    const snapshot = async (label) => {
      await new Promise((r) => setTimeout(r, 50)); // let the loader thread's messages arrive
      const sdks = ${JSON.stringify(SDKS)};
      snapshots[label] = sdks.filter((sdk) => [...globalThis.__resolvedModules].some((url) => url.includes(sdk)));
    };`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--import",
      "tsx",
      "--import",
      "./test/ai/support/record-imports.mjs",
      "--input-type=module",
      "-e",
      `${prelude}\n${script}\nconsole.log("SNAPSHOTS" + JSON.stringify(snapshots));`,
    ],
    { cwd: root, env: { ...process.env, OPENAI_API_KEY: "", NODE_OPTIONS: "" } },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("SNAPSHOTS"));
  return JSON.parse(line!.slice("SNAPSHOTS".length));
}

it("importing stageflow/ai, creating a helper and calling an offline model loads no provider SDK", async () => {
  const snapshots = await sdksLoadedIn(`
    const ai = await import("./engine/ai/index.ts");
    const { InMemoryAICallLogger } = await import("./engine/testing/in-memory-ai-call-logger.ts");
    const helper = ai.createAIHelper("workflow.r.stage.s", new InMemoryAICallLogger());
    await helper.generateText("local/fast", "hello");
    ai.listModels();
    await snapshot("afterLocalCall");
    // Without a key the call fails before the SDK is imported.
    await helper.generateText("openai/gpt-4.1-mini", "hello").catch(() => undefined);
    await snapshot("afterOpenAICallWithoutKey");
  `);

  expect(snapshots.afterLocalCall).toEqual([]);
  expect(snapshots.afterOpenAICallWithoutKey).toEqual([]);
}, 30_000);

// Also the control for the test above: it shows the recording does see an SDK when one loads.
it("an SDK is imported the first time a call needs it, and only that one", async () => {
  const snapshots = await sdksLoadedIn(`
    const ai = await import("./engine/ai/index.ts");
    const helper = ai.createAIHelper("workflow.r.stage.s", undefined, {
      providers: { anthropic: { apiKey: "k", baseURL: "http://127.0.0.1:9" } },
      retry: { maxRetries: 0 },
    });
    await snapshot("before");
    await helper.generateText("anthropic/claude-haiku-4-5", "hello").catch(() => undefined);
    await snapshot("after");
  `);

  expect(snapshots.before).toEqual([]);
  expect(snapshots.after).toEqual(["/node_modules/@anthropic-ai/sdk/"]);
}, 30_000);

it.runIf(existsSync(`${root}/engine/index.ts`))("importing the main stageflow entry loads no provider SDK", async () => {
  const snapshots = await sdksLoadedIn(`
    const main = await import("./engine/index.ts");
    await snapshot("main");
  `);
  expect(snapshots.main).toEqual([]);
}, 30_000);
