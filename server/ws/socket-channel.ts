/**
 * Everything one WebSocket client can make the server hold, bounded and counted in one place.
 *
 * Outbound: every frame for the socket (records, metrics, pong, errors, acknowledgements) goes
 * through `send`, which counts what is still waiting to reach the kernel — ws.bufferedAmount
 * plus a fixed cost per queued frame, since a queued frame costs the process far more than its
 * bytes (a 17-byte pong holds write requests, buffers and a callback). A client whose queue is
 * full is not reading: it is closed with 1008, and terminated if it cannot even take the close
 * frame within a second.
 *
 * Sockets together share one OutboundBudget: once the process holds that much for all of its
 * clients, a socket past its own high-water mark is disconnected rather than queued for, so many
 * sockets that do not read (up to the per-address cap) cannot add up to more than the budget.
 *
 * Inbound: messages read but not yet handled are counted; past a small number the socket stops
 * being read, so a flood waits in the client's own TCP buffers rather than in server memory.
 * ws still delivers the rest of the chunk it is parsing when reading stops, so a hard cap well
 * above that closes a socket whose backlog grows anyway.
 */
import type { WebSocket } from "ws";
import type { TLiveServerMessage } from "../schemas/live.ts";

export interface ChannelLimits {
  /** Outbound bytes (plus PER_FRAME_COST per queued frame) after which the client is disconnected. */
  maxOutboundBytes: number;
  /**
   * Frames queued at once, whatever their size: a flood of tiny replies is bounded by count too,
   * since cutting a socket with N queued writes costs N error callbacks at once.
   */
  maxOutboundFrames: number;
  /** Outbound bytes above which feeds stop producing for this socket (records, metrics). */
  highWaterBytes: number;
  /** Stop reading the socket while this many messages wait to be handled... */
  pauseAtMessages: number;
  /** ... or this many bytes of them. */
  pauseAtBytes: number;
  /** Messages waiting (already read while pausing) beyond which the socket is closed. */
  maxQueuedMessages: number;
  maxQueuedBytes: number;
}

export const DEFAULT_CHANNEL_LIMITS: ChannelLimits = {
  maxOutboundBytes: 8 * 1024 * 1024,
  maxOutboundFrames: 2048,
  highWaterBytes: 1024 * 1024,
  pauseAtMessages: 32,
  pauseAtBytes: 256 * 1024,
  // one 64 KiB chunk of the smallest messages (~21 bytes each) is ~3,100 of them
  maxQueuedMessages: 8192,
  maxQueuedBytes: 4 * 1024 * 1024,
};

/** What the whole process may hold for clients that have not read it yet, counted like a socket's queue. */
export class OutboundBudget {
  /** Bytes (plus PER_FRAME_COST each) of frames handed to ws and not yet written to the kernel. */
  held = 0;

  constructor(readonly maxBytes: number = 64 * 1024 * 1024) {}
}

/** What a queued frame costs beyond its bytes (write requests, buffer objects, callback), as counted. */
export const PER_FRAME_COST = 512;
/** How long a client closed for not reading has to take the close frame before it is terminated. */
const CLOSE_GRACE_MS = 1000;
const POLICY_VIOLATION = 1008;

export class SocketChannel {
  private queuedFrames = 0;
  private closing = false;
  private inboundMessages = 0;
  private inboundBytes = 0;
  private paused = false;

  constructor(
    readonly ws: WebSocket,
    readonly limits: ChannelLimits = DEFAULT_CHANNEL_LIMITS,
    private readonly budget: OutboundBudget = new OutboundBudget(),
  ) {}

  /** Bytes waiting for the client, with the per-frame cost of frames not yet written out. */
  get pendingBytes(): number {
    return this.ws.bufferedAmount + this.queuedFrames * PER_FRAME_COST;
  }

  /** Whether feeds should hold off: the client has more than the high-water mark to read. */
  congested(): boolean {
    return this.pendingBytes > this.limits.highWaterBytes;
  }

  get open(): boolean {
    return !this.closing && this.ws.readyState === this.ws.OPEN;
  }

  send(msg: TLiveServerMessage): boolean {
    return this.sendText(JSON.stringify(msg));
  }

  /**
   * Sends one text frame (a string, or UTF-8 JSON already encoded); false when it was not sent
   * because the socket is closing or its queue is full (then the client is being disconnected).
   */
  sendText(data: string | Buffer): boolean {
    if (!this.open) return false;
    const bytes = typeof data === "string" ? Buffer.byteLength(data) : data.length;
    const pending = this.pendingBytes;
    const cost = bytes + PER_FRAME_COST;
    if (this.queuedFrames >= this.limits.maxOutboundFrames) {
      this.close(POLICY_VIOLATION, "client too slow: outbound queue full");
      return false;
    }
    // a frame is always taken while the client keeps up, however large (metrics of many topics)
    if (pending > this.limits.highWaterBytes) {
      if (pending + cost > this.limits.maxOutboundBytes) {
        this.close(POLICY_VIOLATION, "client too slow: outbound queue full");
        return false;
      }
      if (this.budget.held + cost > this.budget.maxBytes) {
        this.close(POLICY_VIOLATION, "client too slow: the server's outbound memory for slow clients is full");
        return false;
      }
    }
    this.queuedFrames++;
    this.budget.held += cost;
    this.ws.send(data, { binary: false }, () => {
      this.queuedFrames--;
      this.budget.held -= cost;
    });
    return true;
  }

  /** Closes with a reason; a client that cannot take the close frame soon is terminated. */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.ws.close(code, reason);
    const timer = setTimeout(() => {
      if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
    }, CLOSE_GRACE_MS);
    timer.unref();
    this.ws.once("close", () => clearTimeout(timer));
  }

  /**
   * Counts a message read from the client until `handled` is called for it. False when the
   * socket's backlog is past the hard cap (the socket is being closed: drop the message).
   */
  received(bytes: number): boolean {
    if (this.closing) return false;
    if (this.inboundMessages + 1 > this.limits.maxQueuedMessages || this.inboundBytes + bytes > this.limits.maxQueuedBytes) {
      this.close(POLICY_VIOLATION, "too many messages waiting to be handled");
      return false;
    }
    this.inboundMessages++;
    this.inboundBytes += bytes;
    this.throttle();
    return true;
  }

  /** A message counted by `received` has been handled. */
  handled(bytes: number): void {
    this.inboundMessages--;
    this.inboundBytes -= bytes;
    this.throttle();
  }

  /** Stops or resumes reading the socket after its backlog changed. */
  private throttle(): void {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return;
    const { pauseAtMessages, pauseAtBytes } = this.limits;
    if (!this.paused) {
      if (this.inboundMessages >= pauseAtMessages || this.inboundBytes >= pauseAtBytes) {
        this.paused = true;
        this.ws.pause();
      }
      return;
    }
    // resume only once the backlog is well down, so reading does not flap per message
    if (this.inboundMessages <= pauseAtMessages / 2 && this.inboundBytes <= pauseAtBytes / 2) {
      this.paused = false;
      this.ws.resume();
    }
  }
}
