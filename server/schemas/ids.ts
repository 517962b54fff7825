/**
 * Ids and names clients choose, all built on the one primitive `zSafeString`, in a module of
 * their own (no imports besides common.ts) so every schema file can use them without cycles.
 */
import { zSafeString } from "./common.ts";

export const ZGroupId = zSafeString("group id", { min: 1, max: 255 }).refine((s) => s.trim().length > 0, "group id must not be blank");
export const ZMemberId = zSafeString("member id", { min: 1, max: 255 });
export const ZTransactionalId = zSafeString("transactionalId", { min: 1, max: 255 });
export const ZClientId = zSafeString("clientId", { max: 255 });
/** A consumer's note stored with a committed offset (Kafka's OffsetAndMetadata): free text. */
export const ZCommitMetadata = zSafeString("metadata", { max: 4096, text: true });
export const ZTopicPattern = zSafeString("topicPattern", { min: 1, max: 1000 }).describe(
  "regular expression matched against whole topic names",
);
/** Header keys are names (Kafka Strings); their values are bytes and may hold anything. */
export const ZHeaderKey = zSafeString("header key", { max: 32_768 });
