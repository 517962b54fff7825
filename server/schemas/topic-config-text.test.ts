/**
 * The console's config schemas (ZTopicConfigText) accept exactly what the broker's checks
 * (parseConfigValue) accept, and give the same value: the config editor and the create-topic
 * dialog refuse inline what the server would refuse, and nothing else.
 */
import { describe, expect, it } from "vitest";
import { parseConfigValue, TOPIC_CONFIG_NAMES } from "../broker/topic-config.ts";
import { ZTopicConfigText } from "./topic.ts";

const CANDIDATES = [
  "-5",
  "-2",
  "-1",
  "0",
  "1",
  "100",
  " 60000 ",
  "1.5",
  "1e3",
  "abc",
  "",
  "0x10",
  "16777216",
  "16777217",
  "99999999999",
  "9007199254740991",
  "9007199254740993",
  "9".repeat(400),
  "delete",
  "compact",
  "delete,compact",
  "compact,delete",
  "compact, delete",
  "nope",
  "CreateTime",
  "LogAppendTime",
  "createtime",
];

describe("ZTopicConfigText", () => {
  it("has a schema for every config the broker knows", () => {
    expect(Object.keys(ZTopicConfigText).sort()).toEqual([...TOPIC_CONFIG_NAMES].sort());
  });

  it("accepts what the broker accepts, with the same value, and refuses the rest with a message naming the config", () => {
    for (const name of TOPIC_CONFIG_NAMES) {
      for (const text of CANDIDATES) {
        let broker: unknown;
        try {
          broker = { ok: parseConfigValue(name, text.trim() === "" ? text : text.trim()) };
        } catch {
          broker = { ok: undefined, refused: true };
        }
        const ours = ZTopicConfigText[name].safeParse(text);
        const at = `${name} = ${JSON.stringify(text.slice(0, 30))}`;
        if ((broker as { refused?: boolean }).refused) {
          expect(ours.success, at).toBe(false);
          if (!ours.success) expect(ours.error.issues[0].message, at).toContain(name);
        } else {
          expect(ours.success, at).toBe(true);
          if (ours.success) expect(ours.data, at).toEqual((broker as { ok: unknown }).ok);
        }
      }
    }
  });

  it("says what is wrong: a whole number, the range, the choices", () => {
    const msg = (name: string, text: string) => {
      const r = ZTopicConfigText[name].safeParse(text);
      return r.success ? null : r.error.issues[0].message;
    };
    expect(msg("retention.ms", "-5")).toBe("retention.ms must be -1 or more (-1: no limit)");
    expect(msg("max.message.bytes", "99999999999")).toBe("max.message.bytes must be between 0 and 16,777,216");
    expect(msg("delete.retention.ms", "1.5")).toBe("delete.retention.ms must be a whole number");
    expect(msg("retention.ms", "99999999999999999999")).toBe("retention.ms must be at most 9,007,199,254,740,991");
    expect(msg("retention.ms", "9".repeat(400))).toBe("retention.ms must be a whole number"); // Infinity
    expect(msg("cleanup.policy", "nope")).toBe("cleanup.policy must be one of delete, compact, delete,compact");
  });
});
