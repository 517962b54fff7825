/**
 * The edge answers 405 from the OpenAPI document's methods, so the document must name exactly
 * the methods each route handler exports: a handler missing from the document would be
 * unreachable, a documented method without a handler would reach Next's empty 405. Both
 * directions are checked: every route file against the document, every documented path against
 * its route file.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../testing/server-process.ts";
import { buildOpenApiDocument } from "../api/build-openapi-document.ts";
import { allowedMethods, apiRouteOf } from "./api-methods.ts";

function routeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? routeFiles(path.join(dir, e.name)) : e.name === "route.ts" ? [path.join(dir, e.name)] : [],
  );
}

/** The HTTP methods a route file exports handlers for. */
function exportedMethods(file: string): string[] {
  return [...readFileSync(file, "utf8").matchAll(/export (?:async )?function (GET|POST|PUT|PATCH|DELETE)\b/g)].map((m) => m[1]);
}

describe("API methods at the edge", () => {
  const files = routeFiles(path.join(ROOT, "app/api/v1"));

  it("match the methods every route handler exports", () => {
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const route = "/" + path.relative(path.join(ROOT, "app"), path.dirname(file)).replace(/\[(\w+)\]/g, "x");
      const exported = exportedMethods(file);
      const allow = allowedMethods(route);
      expect(allow, route).not.toBeNull();
      expect(allow!.filter((m) => m !== "HEAD" && m !== "OPTIONS").sort(), route).toEqual(exported.sort());
    }
  });

  it("document no path without a route file exporting each documented method", () => {
    const paths = Object.entries((buildOpenApiDocument() as { paths: Record<string, Record<string, unknown>> }).paths);
    const apiPaths = paths.filter(([template]) => template.startsWith("/api/"));
    // the rest are answered by server/main.ts before Next
    expect(paths.filter(([template]) => !template.startsWith("/api/")).map(([t]) => t)).toEqual(["/metrics"]);
    for (const [template, item] of apiPaths) {
      const file = path.join(ROOT, "app", template.replace(/\{(\w+)\}/g, "[$1]"), "route.ts");
      const documented = ["get", "put", "post", "patch", "delete"].filter((m) => item[m] !== undefined).map((m) => m.toUpperCase());
      expect(files, `${template}: no ${path.relative(ROOT, file)}`).toContain(file);
      const exported = exportedMethods(file);
      expect(exported.sort(), template).toEqual(documented.sort());
    }
    expect(apiPaths.length).toBe(files.length);
  });

  it("names a request's route by its template, for bounded metric labels", () => {
    expect(apiRouteOf("/api/v1/topics/orders/partitions/3/records")).toBe("/api/v1/topics/{topic}/partitions/{partition}/records");
    expect(apiRouteOf("/api/v1/openapi.json")).toBe("/api/v1/openapi.json");
    expect(apiRouteOf("/api/v1/nothing")).toBeNull();
  });

  it("knows no API path the handlers do not serve", () => {
    expect(allowedMethods("/api/v1/nothing")).toBeNull();
    expect(allowedMethods("/api/v1/topics/t/records/extra")).toBeNull();
    expect(allowedMethods("/api/v1/openapi.json")).toEqual(["GET", "HEAD", "OPTIONS"]);
    expect(allowedMethods("/api/v1/topics")).toEqual(["GET", "POST", "HEAD", "OPTIONS"]);
  });
});
