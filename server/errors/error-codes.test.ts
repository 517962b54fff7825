import { afterEach, describe, expect, it, vi } from "vitest";
import { ERROR_CODES, isErrorCode, type ErrorCode, type ErrorSpec } from "./error-codes.ts";
import { toErrorResponse } from "./error-response.ts";
import { codeOf, hasCode, isRetriable, TributaryError } from "./tributary-error.ts";
import { BrokerError, GroupError, TxnError } from "../broker/errors.ts";
import { ApiError } from "../api/api-error.ts";

/** Kafka's numbers, as in org.apache.kafka.common.protocol.Errors. */
const KAFKA_SAMPLE: [ErrorCode, number][] = [
  ["INTERNAL", -1], // UNKNOWN_SERVER_ERROR
  ["OFFSET_OUT_OF_RANGE", 1],
  ["CORRUPT_MESSAGE", 2],
  ["UNKNOWN_TOPIC_OR_PARTITION", 3],
  ["BROKER_NOT_AVAILABLE", 8],
  ["MESSAGE_TOO_LARGE", 10],
  ["INVALID_TOPIC_EXCEPTION", 17],
  ["RECORD_LIST_TOO_LARGE", 18],
  ["ILLEGAL_GENERATION", 22],
  ["UNKNOWN_MEMBER_ID", 25],
  ["TOPIC_ALREADY_EXISTS", 36],
  ["INVALID_REQUEST", 42],
  ["OUT_OF_ORDER_SEQUENCE_NUMBER", 45],
  ["INVALID_PRODUCER_EPOCH", 47],
  ["CONCURRENT_TRANSACTIONS", 51],
  ["KAFKA_STORAGE_ERROR", 56],
  ["UNKNOWN_PRODUCER_ID", 59],
  ["GROUP_ID_NOT_FOUND", 69],
  ["UNSUPPORTED_COMPRESSION_TYPE", 76],
  ["INVALID_RECORD", 87],
  ["PRODUCER_FENCED", 90],
  ["TRANSACTIONAL_ID_NOT_FOUND", 105],
  ["FENCED_MEMBER_EPOCH", 110],
  ["STALE_MEMBER_EPOCH", 113],
  ["INVALID_REGULAR_EXPRESSION", 128],
];

/** The HTTP statuses the API answered before the one table (server/api/error-status.ts), pinned. */
const STATUS_BEFORE: Record<ErrorCode, number> = {
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  REQUEST_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_CONNECTIONS: 429,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CROSS_SITE_REQUEST: 403,
  HOST_NOT_ALLOWED: 421,
  BROKER_NOT_AVAILABLE: 503,
  INTERNAL: 500,
  UNKNOWN_TOPIC_OR_PARTITION: 404,
  TOPIC_ALREADY_EXISTS: 409,
  INVALID_TOPIC_EXCEPTION: 400,
  INVALID_PARTITIONS: 400,
  INVALID_CONFIG: 400,
  INVALID_REQUEST: 400,
  INVALID_RECORD: 400,
  INVALID_TIMESTAMP: 400,
  CORRUPT_MESSAGE: 400,
  UNSUPPORTED_COMPRESSION_TYPE: 415,
  MESSAGE_TOO_LARGE: 413,
  RECORD_LIST_TOO_LARGE: 413,
  OFFSET_OUT_OF_RANGE: 416,
  KAFKA_STORAGE_ERROR: 503,
  GROUP_ID_NOT_FOUND: 404,
  UNKNOWN_MEMBER_ID: 404,
  INVALID_GROUP_ID: 400,
  UNSUPPORTED_ASSIGNOR: 400,
  INVALID_REGULAR_EXPRESSION: 400,
  NON_EMPTY_GROUP: 409,
  STALE_MEMBER_EPOCH: 409,
  FENCED_MEMBER_EPOCH: 409,
  ILLEGAL_GENERATION: 409,
  GROUP_MAX_SIZE_REACHED: 409,
  GROUP_SUBSCRIBED_TO_TOPIC: 409,
  NO_OFFSET_FOR_PARTITION: 409,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 409,
  DUPLICATE_SEQUENCE_NUMBER: 409,
  INVALID_PRODUCER_EPOCH: 409,
  PRODUCER_FENCED: 409,
  UNKNOWN_PRODUCER_ID: 409,
  INVALID_PRODUCER_ID_MAPPING: 409,
  TRANSACTION_ABORTED: 409,
  INVALID_TXN_STATE: 409,
  TRANSACTIONAL_ID_NOT_FOUND: 404,
  INVALID_TRANSACTION_TIMEOUT: 400,
  CONCURRENT_TRANSACTIONS: 503,
  UNSTABLE_OFFSET_COMMIT: 503,
  TRANSACTION_COORDINATOR_FENCED: 409,
  // added with pipelines (no status before)
  PIPELINE_NOT_FOUND: 404,
  PIPELINE_ALREADY_EXISTS: 409,
  INVALID_PIPELINE: 400,
  INVALID_PIPELINE_STATE: 409,
  PIPELINE_STATE_RESET_REQUIRED: 409,
  // added with simulations (no status before)
  SIMULATION_NOT_FOUND: 404,
  SIMULATION_ALREADY_EXISTS: 409,
  INVALID_SIMULATION_STATE: 409,
};

/** Codes of the HTTP edge only: a Kafka listener never answers them. */
const API_ONLY: ErrorCode[] = [
  "INVALID_JSON",
  "VALIDATION_FAILED",
  "REQUEST_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "REQUEST_TIMEOUT",
  "CROSS_SITE_REQUEST",
  "HOST_NOT_ALLOWED",
  "TOO_MANY_CONNECTIONS",
  "PIPELINE_NOT_FOUND",
  "PIPELINE_ALREADY_EXISTS",
  "INVALID_PIPELINE",
  "INVALID_PIPELINE_STATE",
  "PIPELINE_STATE_RESET_REQUIRED",
  "SIMULATION_NOT_FOUND",
  "SIMULATION_ALREADY_EXISTS",
  "INVALID_SIMULATION_STATE",
];

// Type-level checks, enforced by `tsc --noEmit` (the test files are in the project):
const withoutOne: Omit<typeof ERROR_CODES, "INVALID_JSON"> = ERROR_CODES;
// @ts-expect-error a code without an entry in the table does not compile
void (withoutOne satisfies Record<ErrorCode, ErrorSpec>);
// @ts-expect-error hasCode takes only codes of the table
void hasCode(new Error(), "PRODUCER_FENSED");

describe("the error table", () => {
  it.each(KAFKA_SAMPLE)("%s is Kafka's error code %i", (code, kafkaCode) => {
    expect(ERROR_CODES[code].kafkaCode).toBe(kafkaCode);
  });

  it("gives no two codes the same Kafka number", () => {
    const numbers = Object.values(ERROR_CODES)
      .map((s: ErrorSpec) => s.kafkaCode)
      .filter((n) => n !== null);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it("has no Kafka number for the codes of the HTTP edge", () => {
    for (const code of API_ONLY) expect(ERROR_CODES[code].kafkaCode, code).toBeNull();
  });

  it("keeps every HTTP status the API answered before", () => {
    const statuses = Object.fromEntries(Object.entries(ERROR_CODES).map(([code, s]) => [code, s.httpStatus]));
    expect(statuses).toEqual(STATUS_BEFORE);
  });

  it("marks as retriable exactly the conditions that pass by themselves", () => {
    const retriable = Object.entries(ERROR_CODES)
      .filter(([, s]) => s.retriable)
      .map(([code]) => code)
      .sort();
    expect(retriable).toEqual(["BROKER_NOT_AVAILABLE", "CONCURRENT_TRANSACTIONS", "KAFKA_STORAGE_ERROR", "UNSTABLE_OFFSET_COMMIT"]);
  });

  it("knows its own codes and nothing else", () => {
    expect(isErrorCode("PRODUCER_FENCED")).toBe(true);
    expect(isErrorCode("HTTP_503")).toBe(false);
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode(42)).toBe(false);
  });
});

describe("errors of every layer share the one base", () => {
  it.each([
    [new BrokerError("KAFKA_STORAGE_ERROR", "x"), "BrokerError", true],
    [new GroupError("UNKNOWN_MEMBER_ID", "x"), "GroupError", false],
    [new TxnError("CONCURRENT_TRANSACTIONS", "x"), "TxnError", true],
    [new ApiError("VALIDATION_FAILED", "x"), "ApiError", false],
  ] as const)("%s takes `retriable` from the table", (e, name, retriable) => {
    expect(e).toBeInstanceOf(TributaryError);
    expect(e.name).toBe(name);
    expect(e.retriable).toBe(retriable);
    expect(isRetriable(e)).toBe(retriable);
  });
});

describe("kind checks by shape", () => {
  // what a route handler sees of an error thrown by another bundle's copy of the classes,
  // and what the client builds from a JSON error body
  const foreign = { isTributaryError: true, code: "PRODUCER_FENCED", message: "fenced", details: { producerId: 7 } };
  const clientSide = Object.assign(new Error("busy"), { status: 503, code: "CONCURRENT_TRANSACTIONS" });

  it("reads codes from any object carrying one of ours", () => {
    expect(codeOf(foreign)).toBe("PRODUCER_FENCED");
    expect(codeOf(clientSide)).toBe("CONCURRENT_TRANSACTIONS");
    expect(codeOf({ code: "EPIPE" })).toBeUndefined();
    expect(codeOf(null)).toBeUndefined();
    expect(codeOf("PRODUCER_FENCED")).toBeUndefined();
  });

  it("tells kinds apart with hasCode and isRetriable", () => {
    expect(hasCode(foreign, "PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH")).toBe(true);
    expect(hasCode(foreign, "INVALID_PRODUCER_EPOCH")).toBe(false);
    expect(hasCode(new TypeError("fetch failed"), "PRODUCER_FENCED")).toBe(false);
    expect(isRetriable(clientSide)).toBe(true);
    expect(isRetriable(foreign)).toBe(false);
    expect(isRetriable(new Error("no code"))).toBe(false);
  });
});

describe("toErrorResponse", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers a coded error with its status and body, also from another bundle", () => {
    expect(toErrorResponse(new BrokerError("OFFSET_OUT_OF_RANGE", "past the end", { logStartOffset: 3 }))).toEqual({
      status: 416,
      body: { error: { code: "OFFSET_OUT_OF_RANGE", message: "past the end", details: { logStartOffset: 3 } } },
    });
    expect(toErrorResponse(foreignError())).toEqual({
      status: 409,
      body: { error: { code: "PRODUCER_FENCED", message: "fenced", details: { producerId: 7 } } },
    });
  });

  it("leaves out empty details", () => {
    expect(toErrorResponse(new ApiError("NOT_FOUND", "no such path", {})).body).toEqual({
      error: { code: "NOT_FOUND", message: "no such path" },
    });
  });

  it("answers anything else with a logged 500 that shows no internals", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const internal = { status: 500, body: { error: { code: "INTERNAL", message: "internal error; see the server log" } } };
    expect(toErrorResponse(new Error("secret path /var/x"))).toEqual(internal);
    // a code-like field alone is not one of ours (e.g. a database error's SQLSTATE)
    expect(toErrorResponse(Object.assign(new Error("dup"), { code: "23505" }))).toEqual(internal);
    expect(toErrorResponse({ isTributaryError: true, code: "NOT_A_CODE", message: "m" })).toEqual(internal);
    expect(log).toHaveBeenCalledTimes(3);
  });
});

function foreignError() {
  return { isTributaryError: true, name: "TxnError", code: "PRODUCER_FENCED", message: "fenced", details: { producerId: 7 } };
}
