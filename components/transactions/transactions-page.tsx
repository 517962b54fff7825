"use client";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { OPEN_STATES, useNow, useProducers, useTransactions, type TProducerEntry, type TTransaction } from "../hooks/use-transactions";
import { useUrlState } from "../hooks/use-url-state";
import { formatCount, formatTime } from "../ui/format";
import { ErrorBox, Loading } from "../ui/status";
import { AbortTransactionDialog } from "./abort-transaction-dialog";
import { formatDuration, REASONS, resultStyle, stateStyle } from "./txn-format";

/** How many partitions a row lists before "+N more". */
const SHOWN_PARTITIONS = 6;

const topicHref = (topic: string, tab = "partitions") => `/topics/${encodeURIComponent(topic)}?tab=${tab}`;

/**
 * A control's value kept in the query string. The URL catches up in a transition, so the
 * control shows what was chosen at once (a controlled checkbox would otherwise flip back until
 * then), and follows the URL when it changes (back, forward, links).
 */
function useUrlValue(name: string): [string, (v: string) => void] {
  const { get, set } = useUrlState();
  const fromUrl = get(name);
  const [value, setValue] = useState(fromUrl);
  useEffect(() => setValue(fromUrl), [fromUrl]);
  return [
    value,
    (v: string) => {
      setValue(v);
      set({ [name]: v || null });
    },
  ];
}

export function TransactionsPage() {
  const [open, setOpen] = useUrlValue("open");
  const [q, setQ] = useUrlValue("q");
  const openOnly = open === "1";
  const txns = useTransactions(openOnly);
  // every id, for the producers table (producer id -> transactional id) and the summary
  const all = useTransactions(false);
  const producers = useProducers();
  const now = useNow(1000);
  const [aborting, setAborting] = useState<TTransaction | null>(null);

  const needle = q.trim().toLowerCase();
  const rows = useMemo(
    () =>
      (txns.data ?? [])
        .filter((t) => matches(needle, t.transactionalId, t.producerId))
        .sort((a, b) => a.transactionalId.localeCompare(b.transactionalId)),
    [txns.data, needle],
  );
  const openCount = (all.data ?? []).filter((t) => OPEN_STATES.has(t.state)).length;
  const idOf = useMemo(() => new Map((all.data ?? []).map((t) => [`${t.producerId}`, t.transactionalId])), [all.data]);

  return (
    <section data-testid="transactions-page">
      <div className="spread">
        <div>
          <h1 style={{ marginBottom: 2 }}>Transactions</h1>
          <div className="small muted" data-testid="transactions-summary">
            {all.data
              ? `${formatCount(all.data.length)} transactional id${all.data.length === 1 ? "" : "s"} · ${formatCount(openCount)} open · `
              : ""}
            refreshes every 1.5 s
          </div>
        </div>
        <div className="row">
          <label className="row small" style={{ gap: 4 }}>
            <input
              type="checkbox"
              data-testid="transactions-open-only"
              checked={openOnly}
              onChange={(e) => setOpen(e.target.checked ? "1" : "")}
            />
            Open only
          </label>
          <input
            type="search"
            aria-label="search by transactional id or producer id"
            placeholder="Transactional or producer id"
            title="Filters both tables: a transactional id containing the text, or a producer id containing the digits"
            data-testid="transactions-search"
            value={q}
            onChange={(e) => setQ(e.target.value)}
          />
        </div>
      </div>
      <ErrorBox error={txns.error} testId="transactions-error" />
      {txns.isPending ? (
        <Loading testId="transactions-loading" />
      ) : (
        <TransactionsTable
          rows={rows}
          now={now}
          updatedAt={txns.dataUpdatedAt}
          openOnly={openOnly}
          q={q}
          hiddenIds={(all.data?.length ?? 0) - (txns.data?.length ?? 0)}
          onAbort={setAborting}
        />
      )}

      <h2>Producers by partition</h2>
      <p className="small muted" style={{ margin: "0 0 8px" }}>
        The broker keeps, per partition, the last epoch and sequence of every idempotent or transactional producer (to drop duplicates and
        fence old instances), and where its open transaction starts — the oldest one there is the partition&apos;s last stable offset.
      </p>
      <ErrorBox error={producers.error} testId="producers-error" />
      {producers.isPending ? (
        <Loading testId="producers-loading" height={100} />
      ) : (
        <ProducersTable
          rows={(producers.data ?? []).filter((p) => matches(needle, idOf.get(`${p.producerId}`) ?? "", p.producerId))}
          total={producers.data?.length ?? 0}
          idOf={idOf}
          now={now}
        />
      )}
      <AbortTransactionDialog txn={aborting} onClose={() => setAborting(null)} />
    </section>
  );
}

function TransactionsTable(props: {
  rows: TTransaction[];
  now: number;
  updatedAt: number;
  openOnly: boolean;
  q: string;
  hiddenIds: number;
  onAbort: (t: TTransaction) => void;
}) {
  const { rows, now, updatedAt, openOnly, q } = props;
  return (
    <table data-testid="transactions-table">
      <thead>
        <tr>
          <th>Transactional id</th>
          <th className="num" title="producer id / producer epoch">
            Producer / epoch
          </th>
          <th>State</th>
          <th>Partitions</th>
          <th title="consumer groups with offsets pending in the transaction (committed with it)">Groups</th>
          <th className="num" title="time since the transaction began (open transactions)">
            Age
          </th>
          <th className="num">Timeout</th>
          <th>Last result</th>
          <th aria-label="actions" />
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colSpan={9} className="muted" data-testid="transactions-empty" style={{ whiteSpace: "normal" }}>
              {q ? (
                "No transactional id or producer id matches."
              ) : openOnly ? (
                <>
                  No transaction is open right now
                  {props.hiddenIds > 0 ? ` (${props.hiddenIds} idle or completed — clear “Open only” to see them)` : ""}.
                </>
              ) : (
                <EmptyExplanation />
              )}
            </td>
          </tr>
        )}
        {rows.map((t) => (
          <TransactionRow key={t.transactionalId} t={t} now={now} updatedAt={updatedAt} onAbort={props.onAbort} />
        ))}
      </tbody>
    </table>
  );
}

function EmptyExplanation() {
  return (
    <div className="stack" style={{ gap: 4, padding: "6px 0", maxWidth: 820 }}>
      <strong style={{ color: "var(--fg)" }}>No transactional producers yet.</strong>
      <span>
        A transaction writes to several partitions (and can commit consumer-group offsets) atomically: on commit every write becomes visible
        together, on abort none does. <code>read_committed</code> consumers read only up to each partition&apos;s last stable offset and
        skip aborted records.
      </span>
      <span>
        A producer starts with <code>POST /api/v1/producers</code> and a <code>transactionalId</code>, produces with it, then calls{" "}
        <code>…/transactions/{"{id}"}/commit</code> or <code>…/abort</code>. Its id shows up here.
      </span>
    </div>
  );
}

function TransactionRow({
  t,
  now,
  updatedAt,
  onAbort,
}: {
  t: TTransaction;
  now: number;
  updatedAt: number;
  onAbort: (t: TTransaction) => void;
}) {
  const id = t.transactionalId;
  const open = OPEN_STATES.has(t.state);
  // ageMs was measured when the list was read: add the time since then (no clock skew)
  const age = t.ageMs === null ? null : t.ageMs + Math.max(0, now - updatedAt);
  const late = age !== null && t.timeoutMs > 0 && age > 0.75 * t.timeoutMs;
  const shown = t.partitions.slice(0, SHOWN_PARTITIONS);
  const more = t.partitions.length - shown.length;
  return (
    <tr data-testid={`txn-row-${id}`} data-state={t.state}>
      <td className="mono" data-testid={`txn-id-${id}`}>
        {id}
      </td>
      <td className="num mono" data-testid={`txn-producer-${id}`}>
        {t.producerId} / {t.producerEpoch}
      </td>
      <td>
        <span
          className="badge"
          style={stateStyle(t.state)}
          data-testid={`txn-state-${id}`}
          title={t.pending ? `completing: ${t.pending.commit ? "commit" : "abort"} (${t.pending.reason})` : undefined}
        >
          {t.state}
        </span>
        {t.pending && (
          <span className="small muted" style={{ marginLeft: 6 }}>
            {t.pending.commit ? "committing" : "aborting"} · {t.pending.reason}
          </span>
        )}
      </td>
      <td style={{ whiteSpace: "normal", minWidth: 160 }} data-testid={`txn-partitions-${id}`} data-count={t.partitions.length}>
        {t.partitions.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <>
            <strong data-testid={`txn-partition-count-${id}`}>{t.partitions.length}</strong>
            <span className="muted">: </span>
            {shown.map((p, i) => (
              <span key={`${p.topic}-${p.partition}`}>
                {i > 0 && ", "}
                <Link
                  href={topicHref(p.topic)}
                  className="mono"
                  style={{ whiteSpace: "nowrap" }}
                  data-testid={`txn-partition-${id}-${p.topic}-${p.partition}`}
                >
                  {p.topic}-{p.partition}
                </Link>
              </span>
            ))}
            {more > 0 && (
              <span
                className="muted"
                title={t.partitions
                  .slice(SHOWN_PARTITIONS)
                  .map((p) => `${p.topic}-${p.partition}`)
                  .join(", ")}
              >
                {" "}
                +{more} more
              </span>
            )}
          </>
        )}
      </td>
      <td style={{ whiteSpace: "normal" }} data-testid={`txn-groups-${id}`}>
        {t.groups.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          t.groups.map((g, i) => (
            <span key={g}>
              {i > 0 && ", "}
              <Link href={`/groups/${encodeURIComponent(g)}`}>{g}</Link>
            </span>
          ))
        )}
      </td>
      <td
        className={`num${late ? " warn" : ""}`}
        data-testid={`txn-age-${id}`}
        title={t.startedAt ? `started ${formatTime(t.startedAt)}` : undefined}
      >
        {open && age !== null ? formatDuration(age) : <span className="muted">—</span>}
      </td>
      <td className="num" data-testid={`txn-timeout-${id}`}>
        {formatDuration(t.timeoutMs)}
      </td>
      <td data-testid={`txn-result-${id}`}>
        {t.lastResult ? (
          <>
            <span className="badge" style={resultStyle(t.lastResult.commit)} data-testid={`txn-result-kind-${id}`}>
              {t.lastResult.commit ? "committed" : "aborted"}
            </span>{" "}
            <span title={REASONS[t.lastResult.reason] ?? t.lastResult.reason} data-testid={`txn-result-reason-${id}`}>
              {t.lastResult.reason}
            </span>
            <span className="small muted" title={formatTime(t.lastResult.completedAt)}>
              {" "}
              · {formatDuration(Math.max(0, now - t.lastResult.completedAt))} ago
            </span>
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td>
        {t.state === "Ongoing" && (
          <button
            type="button"
            className="danger small"
            data-testid={`txn-abort-${id}`}
            title="Abort this transaction: fence its producer and write abort markers (kafka-transactions.sh forceTerminate)"
            onClick={() => onAbort(t)}
          >
            Abort…
          </button>
        )}
      </td>
    </tr>
  );
}

/** A row matches the search when its transactional id contains the text, or its producer id the digits. */
function matches(needle: string, transactionalId: string, producerId: number): boolean {
  if (!needle) return true;
  return transactionalId.toLowerCase().includes(needle) || (/^\d+$/.test(needle) && `${producerId}`.includes(needle));
}

function ProducersTable({ rows, total, idOf, now }: { rows: TProducerEntry[]; total: number; idOf: Map<string, string>; now: number }) {
  return (
    <table data-testid="producers-table">
      <thead>
        <tr>
          <th>Topic</th>
          <th className="num">Partition</th>
          <th className="num">Producer id</th>
          <th className="num">Epoch</th>
          <th>Transactional id</th>
          <th className="num">Last sequence</th>
          <th className="num">Last write</th>
          <th className="num" title="coordinator epoch of the last transaction marker">
            Coord. epoch
          </th>
          <th className="num" title="first offset of the producer's open transaction in this partition">
            Open txn from
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colSpan={9} className="muted" data-testid="producers-empty" style={{ whiteSpace: "normal" }}>
              {total > 0 ? (
                "No producer matches the search."
              ) : (
                <>
                  No producer state yet. Idempotent and transactional producers (<code>POST /api/v1/producers</code>) appear here, per
                  partition, after their first write.
                </>
              )}
            </td>
          </tr>
        )}
        {rows.map((p) => {
          const key = `${p.topic}-${p.partition}-${p.producerId}`;
          const txnId = idOf.get(`${p.producerId}`);
          return (
            <tr key={key} data-testid={`producer-row-${key}`} data-open={p.currentTxnStartOffset !== null ? "1" : undefined}>
              <td>
                <Link href={topicHref(p.topic)}>{p.topic}</Link>
              </td>
              <td className="num">{p.partition}</td>
              <td className="num mono">{p.producerId}</td>
              <td className="num mono" data-testid={`producer-epoch-${key}`}>
                {p.producerEpoch}
              </td>
              <td className="mono" data-testid={`producer-txn-id-${key}`}>
                {txnId ?? <span className="muted">—</span>}
              </td>
              <td className="num mono" data-testid={`producer-seq-${key}`}>
                {p.lastSequence}
              </td>
              <td className="num" title={p.lastTimestamp > 0 ? formatTime(p.lastTimestamp) : undefined}>
                {p.lastTimestamp > 0 ? `${formatDuration(Math.max(0, now - p.lastTimestamp))} ago` : <span className="muted">—</span>}
              </td>
              <td className="num mono">{p.coordinatorEpoch}</td>
              <td className="num mono" data-testid={`producer-txn-start-${key}`}>
                {p.currentTxnStartOffset === null ? (
                  <span className="muted">—</span>
                ) : (
                  <Link href={`${topicHref(p.topic, "messages")}&partition=${p.partition}&from=offset&offset=${p.currentTxnStartOffset}`}>
                    {formatCount(p.currentTxnStartOffset)}
                  </Link>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
