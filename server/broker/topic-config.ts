/**
 * Topic configurations Tributary understands, with Kafka's defaults and validation.
 * Values are kept as typed JS values; the API shows them with Kafka's names.
 */
import { BrokerError } from "./errors.ts";
import { TOPIC_CONFIG_INTEGER_RANGES } from "../schemas/limits.ts";

export type CleanupPolicy = "delete" | "compact" | "delete,compact";

export interface TopicConfigs {
  "retention.ms": number;
  "retention.bytes": number;
  "cleanup.policy": CleanupPolicy;
  "delete.retention.ms": number;
  "max.message.bytes": number;
  "message.timestamp.type": "CreateTime" | "LogAppendTime";
  "min.compaction.lag.ms": number;
}

export type TopicConfigName = keyof TopicConfigs;

/** Kafka's defaults (broker defaults of log.retention.hours=168 etc.). */
export const TOPIC_CONFIG_DEFAULTS: Readonly<TopicConfigs> = Object.freeze({
  "retention.ms": 604_800_000,
  "retention.bytes": -1,
  "cleanup.policy": "delete",
  "delete.retention.ms": 86_400_000,
  "max.message.bytes": 1_048_588,
  "message.timestamp.type": "CreateTime",
  "min.compaction.lag.ms": 0,
});

export const TOPIC_CONFIG_NAMES = Object.keys(TOPIC_CONFIG_DEFAULTS) as TopicConfigName[];

export { MAX_MESSAGE_BYTES_LIMIT } from "../schemas/limits.ts";

const CLEANUP_POLICIES = new Set(["delete", "compact", "delete,compact", "compact,delete"]);

function invalid(name: string, value: unknown, why: string): BrokerError {
  return new BrokerError("INVALID_CONFIG", `invalid value ${JSON.stringify(value)} for config '${name}': ${why}`, {
    config: name,
  });
}

function integer(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n)) throw invalid(name, value, "expected an integer");
  if (n < min || n > max) throw invalid(name, value, `must be between ${min} and ${max}`);
  return n;
}

/** Validates one config value, returning it normalised. Unknown names are refused. */
export function parseConfigValue(name: string, value: unknown): TopicConfigs[TopicConfigName] {
  switch (name) {
    case "retention.ms":
    case "retention.bytes":
    case "delete.retention.ms":
    case "min.compaction.lag.ms":
    case "max.message.bytes":
      return integer(name, value, ...TOPIC_CONFIG_INTEGER_RANGES[name]);
    case "cleanup.policy": {
      const s = typeof value === "string" ? value.replace(/\s+/g, "") : Array.isArray(value) ? value.join(",") : value;
      if (typeof s !== "string" || !CLEANUP_POLICIES.has(s)) {
        throw invalid(name, value, "expected 'delete', 'compact' or 'delete,compact'");
      }
      return (s === "compact,delete" ? "delete,compact" : s) as CleanupPolicy;
    }
    case "message.timestamp.type":
      if (value !== "CreateTime" && value !== "LogAppendTime") {
        throw invalid(name, value, "expected 'CreateTime' or 'LogAppendTime'");
      }
      return value;
    default:
      throw new BrokerError("INVALID_CONFIG", `unknown topic config '${name}'; supported: ${TOPIC_CONFIG_NAMES.join(", ")}`, {
        config: name,
      });
  }
}

/** Validates a set of overrides (values `null` mean "back to the default"). */
export function parseConfigOverrides(input: Record<string, unknown>): Partial<TopicConfigs> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input)) {
    if (value === null) {
      parseConfigValue(name, TOPIC_CONFIG_DEFAULTS[name as TopicConfigName]);
      continue;
    }
    out[name] = parseConfigValue(name, value);
  }
  return out as Partial<TopicConfigs>;
}

export function effectiveConfigs(overrides: Partial<TopicConfigs>): TopicConfigs {
  return { ...TOPIC_CONFIG_DEFAULTS, ...overrides };
}

export function isCompacted(c: TopicConfigs): boolean {
  return c["cleanup.policy"] !== "delete";
}

export function deletesByRetention(c: TopicConfigs): boolean {
  return c["cleanup.policy"] !== "compact";
}
