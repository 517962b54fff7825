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
