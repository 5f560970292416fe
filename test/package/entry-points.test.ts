import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as { name: string; exports: Record<string, { types: string; default: string } | string> };

/** Static (not type-only, not dynamic) imports of a TypeScript source file. */
function staticImports(file: string): string[] {
  const source = readFileSync(file, "utf8");
  const specifiers: string[] = [];
  const pattern = /^\s*(import|export)\s+(?!type\b)(?:[^;]*?\sfrom\s+)?["']([^"']+)["']/gms;
  for (const match of source.matchAll(pattern)) specifiers.push(match[2]!);
  return specifiers;
}

/** Every bare package a module pulls in when imported, following relative imports. */
function packagesLoadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
        visit(existsSync(target) ? target : target.replace(/\.ts$/, "/index.ts"));
      } else if (!spec.startsWith("node:")) {
        packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
      }
    }
  };
  visit(resolve(root, entry));
  return packages;
}

describe("package entry points", () => {
  it("every subpath export points at built JavaScript with type declarations", () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue;
      expect(existsSync(resolve(root, target.default)), `${subpath} → ${target.default}`).toBe(true);
      expect(existsSync(resolve(root, target.types)), `${subpath} → ${target.types}`).toBe(true);
    }
  });

  it("a script outside the engine can import createKernel from stageflow/kernel", () => {
    const out = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", 'const { createKernel } = await import("stageflow/kernel"); console.log(typeof createKernel);'],
      { cwd: root, encoding: "utf8" },
    );
    expect(out.trim()).toBe("function");
  });

  it("importing stageflow loads no AWS or AI provider SDK", () => {
    const loaded = [...packagesLoadedBy("engine/index.ts")];
    expect(loaded).toContain("zod"); // the walk does reach the stage definitions
    expect(loaded.filter((p) => /^(@aws-sdk|@smithy|openai|@anthropic-ai|@google\/genai|aws-cdk-lib)/.test(p))).toEqual([]);
  });

  it("the kernel imports no adapter, AWS SDK or provider SDK", () => {
    expect([...packagesLoadedBy("engine/kernel/index.ts")]).toEqual([]);
  });
});
