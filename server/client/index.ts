/** The TypeScript client: producer, partition reader, group consumer and admin over the REST API. */
export * from "./http-client.ts";
export * from "./producer.ts";
export * from "./partition-reader.ts";
export * from "./consumer.ts";
export * from "./admin.ts";
