/**
 * Which methods each API path answers, taken from the OpenAPI document (the one description
 * of the API), so the edge can answer an unknown method with 405 and an Allow header before
 * Next's router, which would answer it with an empty body.
 */
import { buildOpenApiDocument } from "../api/build-openapi-document.ts";

const OPERATIONS = ["get", "put", "post", "delete", "patch"] as const;

interface ApiPath {
  template: string;
  pattern: RegExp;
  /** Upper-case methods, HEAD beside GET, OPTIONS always. */
  allow: string[];
}

function compile(doc: { paths?: Record<string, Record<string, unknown>> }): ApiPath[] {
  return Object.entries(doc.paths ?? {}).map(([template, item]) => {
    const methods = OPERATIONS.filter((m) => item[m] !== undefined).map((m) => m.toUpperCase());
    if (methods.includes("GET")) methods.push("HEAD");
    methods.push("OPTIONS");
    const source = template
      .split("/")
      .map((seg) => (/^\{\w+\}$/.test(seg) ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/");
    return { template, pattern: new RegExp(`^${source}$`), allow: methods };
  });
}

let paths: ApiPath[] | undefined;

/** The documented API path `pathname` (still percent-encoded) matches; literal paths win over templated ones. */
function findApiPath(pathname: string): ApiPath | null {
  paths ??= compile(buildOpenApiDocument() as { paths?: Record<string, Record<string, unknown>> });
  let found: ApiPath | undefined;
  for (const p of paths) {
    if (!p.pattern.test(pathname)) continue;
    if (!p.template.includes("{")) return p;
    found ??= p;
  }
  return found ?? null;
}

/**
 * The methods the API path `pathname` (still percent-encoded) answers, or null when no API
 * path matches it. Literal paths win over templated ones (`/api/v1/openapi.json`).
 */
export function allowedMethods(pathname: string): string[] | null {
  return findApiPath(pathname)?.allow ?? null;
}

/** The OpenAPI template of an API path (`/api/v1/topics/{topic}`), or null: a bounded label for metrics. */
export function apiRouteOf(pathname: string): string | null {
  return findApiPath(pathname)?.template ?? null;
}
