/**
 * The import-boundary rule (lint/layer-boundaries.js, table in eslint.config.js) fails wrong
 * imports, lets right ones pass, and every known break it allows is still there.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
import { LAYER_EXCEPTIONS, LAYERS, SHARED } from "../../eslint.config.js";
import layerBoundaries from "../../lint/layer-boundaries.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const eslint = new ESLint({ cwd: ROOT });

/** The layer-boundary messages ESLint gives for `code` as if it were the file `file`. */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === "tributary/layer-boundaries").map((m) => m.message);
}

describe("layer boundaries", () => {
  it("fails a broker file that imports the HTTP services", async () => {
    const errors = await boundaryErrors(
      "server/broker/log/new-thing.ts",
      'import { json } from "../../api/http.ts";\nexport const x = json;\n',
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/server\/broker\/log may not import server\/api\/http/);
  });

  it("fails a broker file that imports Next, React or the WebSocket layer", async () => {
    const code = [
      'import { NextResponse } from "next/server";',
      'import { useState } from "react";',
      'import { createLiveServer } from "../ws/ws-server.ts";',
      "export const x = [NextResponse, useState, createLiveServer];",
    ].join("\n");
    expect(await boundaryErrors("server/broker/new-thing.ts", code)).toHaveLength(3);
  });

  it("fails a store that imports an upper broker layer, and the façade importing a PostgreSQL store", async () => {
    expect(await boundaryErrors("server/broker/store/new-store.ts", 'import "../group/group-runtime.ts";\n')).toHaveLength(1);
    expect(await boundaryErrors("server/broker/new-thing.ts", 'import "./store/postgres-log-store.ts";\n')).toHaveLength(1);
  });

  it("keeps the partition layer below the groups and transactions that use it", async () => {
    expect(await boundaryErrors("server/broker/partition/new-thing.ts", 'import "../group/group-runtime.ts";\n')).toHaveLength(1);
    expect(await boundaryErrors("server/broker/partition/new-thing.ts", 'import "../txn/transaction-service.ts";\n')).toHaveLength(1);
    expect(await boundaryErrors("server/broker/group/new-thing.ts", 'import "../partition/fetch.ts";\n')).toEqual([]);
  });

  it("keeps the schemas on zod only, CEL a leaf, components off the server but for schemas", async () => {
    expect(await boundaryErrors("server/schemas/new.ts", 'import { z } from "zod";\nexport const s = z.string();\n')).toEqual([]);
    expect(
      await boundaryErrors("server/schemas/new.ts", 'import { readFileSync } from "node:fs";\nexport const r = readFileSync;\n'),
    ).toHaveLength(1);
    expect(await boundaryErrors("server/cel/new.ts", 'import "../broker/errors.ts";\n')).toHaveLength(1);
    expect(await boundaryErrors("components/x/new.tsx", 'import "@/server/schemas/topic";\n')).toEqual([]);
    expect(await boundaryErrors("components/x/new.tsx", 'import "@/server/api/http";\n')).toHaveLength(1);
  });

  it("lets the allowed imports pass", async () => {
    expect(
      await boundaryErrors(
        "server/broker/log/new-thing.ts",
        'import "../errors.ts";\nimport "./record-batch.ts";\nimport "../store/log-store.ts";\n',
      ),
    ).toEqual([]);
    expect(
      await boundaryErrors(
        "server/api/new-service.ts",
        'import "../broker/broker.ts";\nimport "../schemas/topic.ts";\nimport "../cel/cel.ts";\n',
      ),
    ).toEqual([]);
    expect(await boundaryErrors("app/api/v1/x/route.ts", 'import "@/server/api/http";\nimport "@/components/ui/status";\n')).toEqual([]);
  });

  it("lets every layer import the shared error table", async () => {
    expect(await boundaryErrors("server/broker/log/new-thing.ts", 'import "../../errors/error-codes.ts";\n')).toEqual([]);
    expect(await boundaryErrors("server/schemas/new.ts", 'import "../errors/error-codes.ts";\n')).toEqual([]);
  });

  it("allows a known break only in the file it is listed for", async () => {
    // a table of its own: the real one may have no known break left
    const linter = new ESLint({
      cwd: ROOT,
      overrideConfigFile: true,
      overrideConfig: [
        { files: ["**/*.ts"], languageOptions: { parser: (await import("typescript-eslint")).parser } },
        {
          files: ["**/*.ts"],
          plugins: { tributary: { rules: { "layer-boundaries": layerBoundaries } } },
          rules: {
            "tributary/layer-boundaries": [
              "error",
              {
                root: ROOT,
                aliases: { "@/": "." },
                layers: LAYERS,
                shared: SHARED,
                exceptions: { "server/broker/log/listed-file.ts": ["server/broker/txn/transaction-service.ts"] },
              },
            ],
          },
        },
      ],
    });
    const errors = async (file: string) => {
      const [result] = await linter.lintText('import "../txn/transaction-service.ts";\n', { filePath: path.join(ROOT, file) });
      return result.messages.filter((m) => m.ruleId === "tributary/layer-boundaries");
    };
    expect(await errors("server/broker/log/listed-file.ts")).toEqual([]);
    expect(await errors("server/broker/log/another-file.ts")).toHaveLength(1);
  });

  it("lists only known breaks that are still in the code", async () => {
    // lint the listed files without any exceptions: each listed import must still be reported
    const strict = new ESLint({
      cwd: ROOT,
      overrideConfigFile: true,
      overrideConfig: [
        { files: ["**/*.ts", "**/*.tsx"], languageOptions: { parser: (await import("typescript-eslint")).parser } },
        {
          files: ["**/*.ts", "**/*.tsx"],
          plugins: { tributary: { rules: { "layer-boundaries": layerBoundaries } } },
          rules: {
            "tributary/layer-boundaries": ["error", { root: ROOT, aliases: { "@/": "." }, layers: LAYERS, shared: SHARED, exceptions: {} }],
          },
        },
      ],
    });
    const files = Object.keys(LAYER_EXCEPTIONS);
    // no files: ESLint would lint the whole tree instead of none
    const results = files.length > 0 ? await strict.lintFiles(files.map((f) => path.join(ROOT, f))) : [];
    const stale: string[] = [];
    for (const file of files) {
      const messages = results.find((r) => r.filePath === path.join(ROOT, file))?.messages ?? [];
      for (const target of LAYER_EXCEPTIONS[file]) {
        const bare = target.replace(/\.tsx?$/, "");
        if (!messages.some((m) => m.message.includes(` import ${bare} `))) stale.push(`${file} -> ${target}`);
      }
    }
    expect(stale, "exceptions in eslint.config.js whose import is gone: remove them").toEqual([]);
  });
});
