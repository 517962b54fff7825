import { ZProduceRequest, type TProduceRequest, type TProduceResponse } from "../schemas/record.ts";
import { parseJsonBody, type ReservedBody } from "./http.ts";
import { jsonMemory, producedJsonEstimate } from "./memory-budget.ts";
import { toProduceRecord } from "../present/record-json.ts";
import { getBroker } from "./registry.ts";

/**
 * Produces JSON-described records; replies after they are committed to PostgreSQL. With a
 * producer id they are one idempotent (or transactional) batch to one partition.
 */
export async function produceRecords(topic: string, req: TProduceRequest, clientId?: string): Promise<TProduceResponse> {
  const as =
    req.producerId !== undefined
      ? {
          producerId: req.producerId,
          producerEpoch: req.producerEpoch as number,
          baseSequence: req.baseSequence as number,
          transactionalId: req.transactionalId,
        }
      : undefined;
  const records = await getBroker().produce(topic, req.records.map(toProduceRecord), as, { clientId: req.clientId ?? clientId });
  return { topic, records };
}

/**
 * Parses, validates and produces a JSON produce body that has fully arrived. Parsing takes
 * several times the body's size, so it runs within the JSON memory budget, reserved for the
 * body's actual size only now: a client still sending its body holds no part of that budget.
 */
export async function produceJsonBody(
  topic: string,
  body: ReservedBody,
  signal?: AbortSignal,
  clientId?: string,
): Promise<TProduceResponse> {
  let release: (() => void) | undefined;
  try {
    release = await jsonMemory().acquire(producedJsonEstimate(body.bytes.length), signal);
  } finally {
    // from here the JSON estimate (which includes the body) accounts for it
    body.release();
  }
  try {
    return await produceRecords(topic, parseJsonBody(body.bytes, ZProduceRequest), clientId);
  } finally {
    release();
  }
}
