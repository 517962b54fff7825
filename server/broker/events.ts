/** In-process broker events: appends wake long-polls and live tails; the console shows the rest. */
import { EventEmitter } from "node:events";

export interface AppendEvent {
  topic: string;
  partition: number;
  baseOffset: number;
  lastOffset: number;
  highWatermark: number;
  recordCount: number;
  sizeBytes: number;
}

/** Records handed to a reader (REST fetch, group poll, live tail, search), for throughput meters. */
export interface FetchEvent {
  topic: string;
  partition: number;
  recordCount: number;
  sizeBytes: number;
}

export interface BrokerEventMap {
  append: [AppendEvent];
  fetch: [FetchEvent];
  "topic-created": [{ topic: string }];
  "topic-deleted": [{ topic: string }];
  "topic-changed": [{ topic: string }];
}

export class BrokerEvents extends EventEmitter<BrokerEventMap> {
  constructor() {
    super();
    // Every live-tail subscription listens; the count is bounded by the WebSocket layer.
    this.setMaxListeners(0);
  }
}
