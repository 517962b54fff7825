/**
 * The append statement as a node-pg query whose Bind message carries the batch payloads as
 * they are: the message header (every other parameter, as text) is one small buffer, then each
 * payload is written to the socket as its own buffer inside the corked flush, so the bytes go
 * from the request body to the kernel without a copy. node-pg's own Bind copies every parameter
 * into one growing buffer (and a group commit would first concatenate its batches): for 1 KB
 * records that was three copies of every byte and most of the server's garbage collection.
 *
 * It is a `pg.Query` (node-pg's Submittable): parsing, row decoding, errors and the statement
 * cache stay node-pg's; only the Bind is written here. Run it on a checked-out client
 * (`client.query(q)`), since `pool.query` does not take Submittables.
 */
import pg from "pg";

/** A statement parameter: text, a number, or a text-format array of numbers or booleans. */
export type TextParam = string | number | readonly number[] | readonly boolean[];

interface ProtocolConnection {
  stream: { write(chunk: Buffer): boolean };
  parse(q: { text: string; name: string; types?: unknown[] }): void;
  describe(msg: { type: "P"; name: string }): void;
  execute(msg: { portal: string; rows?: number }): void;
  sync(): void;
  submittedNamedStatements: Record<string, string>;
}

interface QueryInternals {
  hasBeenParsed(connection: ProtocolConnection): boolean;
}

function toText(v: TextParam): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  let s = "{";
  for (let i = 0; i < v.length; i++) {
    if (i > 0) s += ",";
    const x = v[i];
    s += typeof x === "boolean" ? (x ? "t" : "f") : String(x);
  }
  return s + "}";
}

/**
 * The Bind message for `params` (text) followed by one binary parameter whose bytes are the
 * concatenation of `parts`: a header buffer, then the parts as given, then the result formats.
 */
export function bindMessage(statement: string, params: readonly TextParam[], parts: readonly Buffer[]): Buffer[] {
  const texts = params.map((p) => Buffer.from(toText(p), "utf8"));
  const nParams = texts.length + 1;
  const name = Buffer.from(statement, "utf8");
  let binaryLength = 0;
  for (const p of parts) binaryLength += p.length;
  // 'B', length, portal "" \0, statement \0, format codes, values, result format codes
  let header = 1 + 4 + 1 + name.length + 1 + 2 + 2 * nParams + 2 + 4;
  for (const t of texts) header += 4 + t.length;
  const tail = Buffer.from([0, 1, 0, 0]); // one result format code: text
  const head = Buffer.allocUnsafe(header);
  let at = 0;
  head[at++] = 0x42; // 'B'
  head.writeInt32BE(header - 1 + binaryLength + tail.length, at);
  at += 4;
  head[at++] = 0; // unnamed portal
  at += name.copy(head, at);
  head[at++] = 0;
  head.writeInt16BE(nParams, at);
  at += 2;
  for (let i = 0; i < nParams; i++, at += 2) head.writeInt16BE(i === nParams - 1 ? 1 : 0, at);
  head.writeInt16BE(nParams, at);
  at += 2;
  for (const t of texts) {
    head.writeInt32BE(t.length, at);
    at += 4;
    at += t.copy(head, at);
  }
  head.writeInt32BE(binaryLength, at);
  return [head, ...parts, tail];
}

export class BinaryTailQuery<R extends pg.QueryResultRow> extends pg.Query<R> {
  /**
   * @param statement prepared-statement name and text (parsed once per connection, as node-pg does)
   * @param params the statement's parameters but the last, sent as text
   * @param parts the last parameter, a bytea sent in binary: these buffers, back to back
   */
  constructor(
    private readonly statement: { name: string; text: string },
    private readonly params: readonly TextParam[],
    private readonly parts: readonly Buffer[],
  ) {
    super({ name: statement.name, text: statement.text });
  }

  /** Replaces node-pg's prepare: Parse (once), our Bind, then Describe, Execute and Sync as node-pg sends them. */
  prepare(connection: ProtocolConnection): void {
    if (!(this as unknown as QueryInternals).hasBeenParsed(connection)) {
      connection.parse({ text: this.statement.text, name: this.statement.name });
      connection.submittedNamedStatements[this.statement.name] = this.statement.text;
    }
    for (const chunk of bindMessage(this.statement.name, this.params, this.parts)) connection.stream.write(chunk);
    connection.describe({ type: "P", name: "" });
    connection.execute({ portal: "" });
    connection.sync();
  }

  /** Runs on `client`; resolves with the rows. */
  static run<R extends pg.QueryResultRow>(client: pg.PoolClient, q: BinaryTailQuery<R>): Promise<R[]> {
    return new Promise<R[]>((resolve, reject) => {
      q.on("error", reject);
      q.on("end", (result: pg.QueryResult<R>) => resolve(result.rows));
      client.query(q);
    });
  }
}
