/** The TypeScript client: producer, partition reader, group consumer and admin over the REST API (or another transport, see transport.ts). */
export * from "./http-client.ts";
export * from "./transport.ts";
export * from "./producer.ts";
export * from "./partition-reader.ts";
export * from "./consumer.ts";
export * from "./admin.ts";
