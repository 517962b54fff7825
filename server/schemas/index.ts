export * from "./common.ts";
export * from "./topic.ts";
export * from "./record.ts";
export * from "./live.ts";
export * from "./group.ts";
export * from "./console.ts";
export * from "./producer.ts";
export * from "./ids.ts";
