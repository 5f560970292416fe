import { findFreePort } from "./free-port.js";

/** A running fauxqs (SQS incl. FIFO, S3) inside this process. */
export interface FauxqsLocal {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs in this process on a free port. Being in-process, it ends with the process: no
 * orphan to reap. Clients need an explicit `endpoint`, and S3 clients `forcePathStyle: true`.
 */
export async function startFauxqsLocal(options: { port?: number } = {}): Promise<FauxqsLocal> {
  const port = options.port ?? (await findFreePort());
  // fauxqs is a dev/local dependency: never loaded by the adapters themselves.
  const { startFauxqs } = await import("fauxqs");
  const server = await startFauxqs({ port, logger: false });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    port: server.port,
    stop: () => server.stop(),
  };
}
