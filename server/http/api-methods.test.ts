/**
 * The edge answers 405 from the OpenAPI document's methods, so the document must name exactly
 * the methods each route handler exports: a handler missing from the document would be
 * unreachable, a documented method without a handler would reach Next's empty 405.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../testing/server-process.ts";
import { allowedMethods } from "./api-methods.ts";

function routeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? routeFiles(path.join(dir, e.name)) : e.name === "route.ts" ? [path.join(dir, e.name)] : [],
  );
}

describe("API methods at the edge", () => {
  const files = routeFiles(path.join(ROOT, "app/api/v1"));

  it("match the methods every route handler exports", () => {
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const route = "/" + path.relative(path.join(ROOT, "app"), path.dirname(file)).replace(/\[(\w+)\]/g, "x");
      const exported = [...readFileSync(file, "utf8").matchAll(/export (?:async )?function (GET|POST|PUT|PATCH|DELETE)\b/g)].map(
        (m) => m[1],
      );
      const allow = allowedMethods(route);
      expect(allow, route).not.toBeNull();
      expect(allow!.filter((m) => m !== "HEAD" && m !== "OPTIONS").sort(), route).toEqual(exported.sort());
    }
  });

  it("knows no API path the handlers do not serve", () => {
    expect(allowedMethods("/api/v1/nothing")).toBeNull();
    expect(allowedMethods("/api/v1/topics/t/records/extra")).toBeNull();
    expect(allowedMethods("/api/v1/openapi.json")).toEqual(["GET", "HEAD", "OPTIONS"]);
    expect(allowedMethods("/api/v1/topics")).toEqual(["GET", "POST", "HEAD", "OPTIONS"]);
  });
});
