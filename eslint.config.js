/**
 * ESLint: typescript-eslint's recommended rules, React's hook rules for the console, and the layer
 * table of server/ARCHITECTURE.md as the rule `tributary/layer-boundaries` (lint/layer-boundaries.js).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import layerBoundaries from "./lint/layer-boundaries.js";

const root = path.dirname(fileURLToPath(import.meta.url));

/** UI and web-framework packages: no server layer below the route handlers touches them. */
const WEB = ["next", "next/*", "react", "react-dom", "@tanstack/*", "@xyflow/*"];

/**
 * The layer table of server/ARCHITECTURE.md. `allow` lists what a layer may import besides its own
 * folder; `packages` (only these) or `deniedPackages` (all but these) what it may take from npm
 * and Node. Change this table and the page in the same commit.
 */
export const LAYERS = [
  {
    path: "server/broker/protocol",
    // a leaf with no I/O, shared by the client, the store and a future Kafka listener
    allow: ["server/broker/errors.ts"],
    // node:module: createRequire loads the native CRC-32C when it is installed
    packages: ["@node-rs/crc32", "node:buffer", "node:module", "node:zlib"],
  },
  {
    path: "server/broker/log",
    allow: ["server/broker/protocol", "server/broker/store", "server/broker/errors.ts", "server/broker/topic-config.ts"],
    // the store's interfaces, not its PostgreSQL implementations
    deny: ["server/broker/store/postgres-*"],
    deniedPackages: WEB,
  },
  {
    path: "server/broker/store",
    // the only SQL of the broker: Prisma's client and pg through server/db
    allow: ["server/broker/protocol", "server/broker/errors.ts", "server/broker/topic-config.ts", "server/db"],
    deniedPackages: WEB,
  },
  {
    // topics, partition logs, produce, fetch, offsets, the cleaner: below the groups and transactions
    path: "server/broker/partition",
    allow: [
      "server/broker/protocol",
      "server/broker/log",
      "server/broker/store",
      "server/broker/errors.ts",
      "server/broker/events.ts",
      "server/broker/topic-config.ts",
      "server/schemas/limits.ts",
    ],
    deny: ["server/broker/store/postgres-*"],
    deniedPackages: WEB,
  },
  {
    path: "server/broker/group",
    allow: [
      "server/broker/protocol",
      "server/broker/log",
      "server/broker/partition",
      "server/broker/store",
      "server/cel/regex.ts",
      "server/broker/errors.ts",
      "server/broker/events.ts",
      "server/broker/topic-config.ts",
    ],
    // the reset target and plan: one type for the broker, the API, the client and the console
    allowTypes: ["server/schemas"],
    deny: ["server/broker/store/postgres-*"],
    deniedPackages: WEB,
  },
  {
    path: "server/broker/txn",
    allow: [
      "server/broker/protocol",
      "server/broker/log",
      "server/broker/partition",
      "server/broker/store",
      "server/broker/group",
      "server/broker/errors.ts",
      "server/broker/events.ts",
      "server/broker/topic-config.ts",
    ],
    deny: ["server/broker/store/postgres-*"],
    deniedPackages: WEB,
  },
  {
    // the façade: its subfolders, nothing above it
    path: "server/broker",
    allow: [
      "server/broker/protocol",
      "server/broker/log",
      "server/broker/partition",
      "server/broker/store",
      "server/broker/group",
      "server/broker/txn",
      "server/cel",
      // the limits the API's schemas, the client and the console share (plain values, no zod)
      "server/schemas/limits.ts",
    ],
    allowTypes: ["server/schemas"],
    deny: ["server/broker/store/postgres-*"],
    deniedPackages: WEB,
  },
  {
    // the one place the broker is wired to its PostgreSQL stores (main.ts and the tests use it)
    path: "server/broker/create-broker.ts",
    allow: ["server/broker", "server/db", "server/config.ts"],
    deniedPackages: WEB,
  },
  {
    // a leaf with no I/O: the one KIP-848 group-member loop (client, WebSocket session, stream tasks)
    path: "server/group-member",
    packages: [],
  },
  { path: "server/cel", packages: ["@marcbachmann/cel-js", "re2js"] },
  {
    // pipelines as a product: drafts, versions and lifecycle in PostgreSQL, the engine running them
    path: "server/pipelines",
    // the client's transport type and its MessagePort form: pipeline threads reach the broker through them
    allow: ["server/stream", "server/schemas", "server/db/generated", "server/client", "server/inproc/port-transport.ts"],
    deniedPackages: WEB,
  },
  {
    // simulated clients (issue #17): the public client against this server's own address, CEL value templates
    path: "server/simulation",
    // the Prisma client only for the scenario ledger (postgres-scenario-ledger.ts), as server/pipelines has its store
    allow: ["server/client", "server/schemas", "server/cel", "server/db/generated"],
    deniedPackages: [...WEB, "pg", "@electric-sql/*"],
  },
  {
    // the client's transport onto this process's broker façade: pipelines run on it without loopback HTTP
    path: "server/inproc",
    allow: ["server/broker/broker.ts", "server/client", "server/cel/regex.ts", "server/schemas"],
    deniedPackages: [...WEB, "pg", "@prisma/*", "@electric-sql/*"],
  },
  {
    // the stream engine: no SQL, no broker internals, so it can later run against a Kafka cluster
    path: "server/stream",
    // the broker only through the public client (runtime/): swappable for a Kafka client later
    allow: ["server/schemas", "server/cel", "server/client", "server/broker/protocol/record-batch.ts"],
    deniedPackages: [...WEB, "pg", "@prisma/*", "@electric-sql/*"],
  },
  { path: "server/http", allow: ["server/api/build-openapi-document.ts"], deniedPackages: WEB },
  {
    path: "server/api",
    // the broker façade is the root of server/broker, not its subfolders
    allow: [
      "server/broker/broker.ts",
      "server/broker/errors.ts",
      "server/broker/events.ts",
      "server/broker/topic-config.ts",
      "server/cel",
      "server/schemas",
      "server/present",
      "server/pipelines",
      "server/simulation",
      "server/config.ts",
    ],
    deniedPackages: ["react", "react-dom", "@tanstack/*", "@xyflow/*"],
  },
  {
    path: "server/ws",
    allow: [
      "server/broker/broker.ts",
      "server/broker/errors.ts",
      "server/broker/events.ts",
      "server/broker/topic-config.ts",
      "server/schemas",
      "server/present",
      "server/group-member",
    ],
    deniedPackages: WEB,
  },
  {
    // what the REST API and the WebSocket both send: records as JSON, the metrics snapshot
    path: "server/present",
    allow: ["server/broker/broker.ts", "server/broker/events.ts", "server/schemas"],
    deniedPackages: WEB,
  },
  {
    // GET /metrics: the Prometheus exposition, read from the broker façade at each scrape
    path: "server/metrics",
    allow: ["server/broker/broker.ts", "server/broker/events.ts", "server/http/api-methods.ts"],
    packages: ["prom-client", "node:http"],
  },
  { path: "server/schemas", packages: ["zod"] },
  { path: "server/db", deniedPackages: WEB },
  {
    path: "server/client",
    allow: ["server/broker/protocol", "server/schemas", "server/group-member"],
    deniedPackages: WEB,
  },
  { path: "app", allow: ["server/api", "server/schemas", "components"] },
  { path: "components", allow: ["server/schemas"] },
];

/** What every layer may import: the one error table and base class, a leaf below all of them. */
export const SHARED = ["server/errors"];

/**
 * Known breaks of the table, each allowed for the one file that has it until issue #14 removes it;
 * any other wrong import fails. Remove an entry with the import. None are left.
 * @type {Record<string, string[]>}
 */
export const LAYER_EXCEPTIONS = {};

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      ".next/**",
      "server/db/generated/**",
      "next-env.d.ts",
      "data/**",
      "bench-results/**",
      "test-results/**",
      "playwright-report/**",
      ".tmp/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "module",
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        globalThis: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        setImmediate: "readonly",
        clearImmediate: "readonly",
        queueMicrotask: "readonly",
        URL: "readonly",
        URLSearchParams: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        AbortController: "readonly",
        AbortSignal: "readonly",
        fetch: "readonly",
        Response: "readonly",
        Request: "readonly",
        Headers: "readonly",
        structuredClone: "readonly",
        performance: "readonly",
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  {
    files: ["components/**/*.{ts,tsx}", "app/**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    // The two rules of hooks. The plugin's React Compiler checks (refs, set-state-in-effect, …)
    // stay off: the console is not compiled by the React Compiler and uses the latest-ref pattern.
    rules: { "react-hooks/rules-of-hooks": "error", "react-hooks/exhaustive-deps": "error" },
  },
  {
    // scripts in CommonJS (the kafkajs fixture generator)
    files: ["**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", module: "writable", exports: "writable", __dirname: "readonly", __filename: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["**/*.{ts,tsx,js,mjs}"],
    ignores: ["**/*.test.ts", "**/*.test.tsx"],
    plugins: { tributary: { rules: { "layer-boundaries": layerBoundaries } } },
    rules: {
      "tributary/layer-boundaries": [
        "error",
        { root, aliases: { "@/": "." }, layers: LAYERS, shared: SHARED, exceptions: LAYER_EXCEPTIONS },
      ],
    },
  },
);
