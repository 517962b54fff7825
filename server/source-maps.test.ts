/**
 * keepOwnSourceMapsOnly in a real Node process run as the server runs (the tsx loader, which
 * turns source maps on): a CommonJS module's source map is not kept, an ES module's is.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { withoutSourceMapComment } from "./source-maps.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(path.join(tmpdir(), "tributary-source-maps-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const map = Buffer.from(
  JSON.stringify({ version: 3, sources: ["x.ts"], sourcesContent: ["export const a: number = 1;"], names: [], mappings: "AAAA" }),
).toString("base64");
const comment = `//# sourceMappingURL=data:application/json;base64,${map}\n`;

/** Which of a CommonJS and an ES module, each with an inline source map, Node kept the map of. */
async function keptMaps(install: boolean): Promise<{ cjs: boolean; esm: boolean }> {
  const cjs = path.join(dir, `m-${install}.cjs`);
  const esm = path.join(dir, `m-${install}.mjs`);
  writeFileSync(cjs, `module.exports = 1;\n${comment}`);
  writeFileSync(esm, `export default 1;\n${comment}`);
  const script = `
    import { createRequire, findSourceMap } from "node:module";
    import { pathToFileURL } from "node:url";
    if (${install}) (await import(${JSON.stringify(path.join(root, "server/source-maps.ts"))})).keepOwnSourceMapsOnly();
    createRequire(import.meta.url)(${JSON.stringify(cjs)});
    await import(pathToFileURL(${JSON.stringify(esm)}).href);
    console.log(JSON.stringify({
      cjs: findSourceMap(${JSON.stringify(cjs)}) !== undefined,
      esm: findSourceMap(pathToFileURL(${JSON.stringify(esm)}).href) !== undefined,
    }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root });
  return JSON.parse(stdout) as { cjs: boolean; esm: boolean };
}

describe("source maps (server/source-maps.ts)", () => {
  it("under the TypeScript loader, Node keeps both modules' source maps unless told otherwise", async () => {
    expect(await keptMaps(false)).toEqual({ cjs: true, esm: true });
  });

  it("keepOwnSourceMapsOnly: a CommonJS module's map is not kept, an ES module's is", async () => {
    expect(await keptMaps(true)).toEqual({ cjs: false, esm: true });
  });

  it("takes off only a trailing source map comment", () => {
    expect(withoutSourceMapComment("a();\n//# sourceMappingURL=a.js.map\n")).toBe("a();\n");
    expect(withoutSourceMapComment("a();\n/*# sourceMappingURL=a.js.map */")).toBe("a();\n");
    expect(withoutSourceMapComment(`a();\n${comment}`)).toBe("a();\n");
    // not a comment, or code after it: left as it is
    expect(withoutSourceMapComment('const s = "sourceMappingURL=x";\n')).toBe('const s = "sourceMappingURL=x";\n');
    expect(withoutSourceMapComment("//# sourceMappingURL=a.js.map\nb();\n")).toBe("//# sourceMappingURL=a.js.map\nb();\n");
    expect(withoutSourceMapComment("a();\n")).toBe("a();\n");
  });
});
