/**
 * The OpenAPI document is read by tools (the reference at /api/docs, client generators): every
 * `$ref` must resolve inside it. zod's JSON Schema puts named schemas under a per-schema `$defs`
 * that an OpenAPI document does not resolve; they must all be components.
 */
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "./build-openapi-document.ts";

describe("the OpenAPI document", () => {
  const doc = buildOpenApiDocument() as { components: { schemas: Record<string, unknown> } };
  const text = JSON.stringify(doc);

  it("resolves every $ref to a component schema", () => {
    const refs = [...text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(Object.keys(doc.components.schemas), ref).toContain(ref.slice("#/components/schemas/".length));
    }
    expect(text).not.toContain('"$defs"');
  });

  it("tags every operation with a declared group and gives it a short summary", () => {
    const { tags, paths } = doc as unknown as {
      tags: { name: string }[];
      paths: Record<string, Record<string, { summary?: string; tags?: string[] }>>;
    };
    const names = tags.map((t) => t.name);
    for (const [path, item] of Object.entries(paths)) {
      for (const method of ["get", "put", "post", "patch", "delete"]) {
        const op = item[method];
        if (!op) continue;
        expect(op.tags?.length, `${method} ${path}`).toBe(1);
        expect(names).toContain(op.tags![0]);
        expect(op.tags![0], `${method} ${path} belongs in a group of TAGS`).not.toBe("Other");
        expect(op.summary, `${method} ${path}`).not.toMatch(/: |; /);
      }
    }
    expect(paths["/api/v1/topics/{topic}/records"].post.tags).toEqual(["Records"]);
    expect(paths["/api/v1/groups/{group}/members"].post.tags).toEqual(["Consumer groups"]);
  });

  it("names the schemas the handlers share once", () => {
    for (const name of ["Topic", "Partition", "TopicConfigs", "Record", "Error", "Metrics"])
      expect(doc.components.schemas).toHaveProperty(name);
  });
});
