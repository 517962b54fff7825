import { z } from "zod";

/** Error body of every failed API call and WebSocket error frame. */
export const ZErrorBody = z
  .object({
    error: z.object({
      code: z.string().describe("Kafka error name (UNKNOWN_TOPIC_OR_PARTITION, ...) or an API code (VALIDATION_FAILED, ...)"),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: "Error" });
export type TErrorBody = z.infer<typeof ZErrorBody>;

/** Integers in query strings: digits only (no 1e3, no 0x10, no blanks). */
export const zQueryInt = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d{1,16}$/, `${name} must be an integer`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${name} must be >= ${min}`).max(max, `${name} must be <= ${max}`));

/**
 * C0/C1 control characters (NUL included) and UTF-16 surrogates that pair with nothing. A NUL
 * cannot be stored in a PostgreSQL text column and a lone surrogate is not encodable as UTF-8:
 * either one reaching a statement fails it (and used to leave the embedded database broken).
 */
/* eslint-disable no-control-regex -- control characters are what these refuse */
const UNSAFE_IN_ID = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** The same, but free text (commit metadata) may hold tabs and line breaks. */
const UNSAFE_IN_TEXT =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/* eslint-enable no-control-regex */

function describeUnsafe(s: string, at: number): string {
  const unit = s.charCodeAt(at);
  const what = unit >= 0xd800 && unit <= 0xdfff ? "an unpaired surrogate" : unit === 0 ? "a NUL byte" : "a control character";
  return `${what} (U+${unit.toString(16).toUpperCase().padStart(4, "0")} at index ${at})`;
}

/**
 * The one primitive for client-chosen ids and names (group, member, transactional and client
 * ids, header keys, patterns) and free text the server stores (commit metadata): a string of
 * `min`..`max` characters without NUL, control characters or unpaired surrogates, refused with a
 * message naming `field`. `text: true` allows tab, line feed and carriage return.
 */
export function zSafeString(field: string, opts: { min?: number; max: number; text?: boolean }) {
  const unsafe = opts.text ? UNSAFE_IN_TEXT : UNSAFE_IN_ID;
  let s = z.string();
  if (opts.min !== undefined && opts.min > 0)
    s = s.min(opts.min, opts.min === 1 ? `${field} must not be empty` : `${field} must be at least ${opts.min} characters`);
  return s.max(opts.max, `${field} must be at most ${opts.max} characters`).superRefine((value, ctx) => {
    const m = unsafe.exec(value);
    if (m) ctx.addIssue({ code: "custom", message: `${field} must not contain ${describeUnsafe(value, m.index)}` });
  });
}
