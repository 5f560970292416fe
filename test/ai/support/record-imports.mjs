// Preloaded with `node --import`: records the URL of every module the process resolves, so a
// test can tell which packages an import pulled in. The hooks run on Node's loader thread and
// report back over a MessagePort.
import { register } from "node:module";
import { MessageChannel } from "node:worker_threads";

const { port1, port2 } = new MessageChannel();
globalThis.__resolvedModules = new Set();
port1.on("message", (url) => globalThis.__resolvedModules.add(url));
port1.unref();
register("./record-imports-hooks.mjs", import.meta.url, { data: { port: port2 }, transferList: [port2] });
