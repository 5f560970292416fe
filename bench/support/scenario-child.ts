/**
 * Child-process entry of the benchmark: runs one scenario and sends its report to the parent.
 * Arguments: <scenario name> <concurrency> <warmup: "1" | "0"> [repetitions].
 */
import { measureScenario, SCENARIOS } from "./scenarios.js";

const [name, concurrency, warmup, repeats] = process.argv.slice(2);
const spec = SCENARIOS.find((s) => s.name === name);
if (!spec) throw new Error(`unknown scenario ${String(name)}`);
const report = await measureScenario(spec, Number(concurrency ?? 8), warmup !== "0", repeats ? Number(repeats) : undefined);
process.send?.(report);
