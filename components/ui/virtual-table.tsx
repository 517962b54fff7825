"use client";
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";

export interface Column<T> {
  key: string;
  header: string;
  width: number | string;
  align?: "right";
  render(row: T, index: number): ReactNode;
}

/** The column the rows are sorted by, shown in its header (▲ ascending, ▼ descending). */
export interface TableSort {
  key: string;
  dir: "asc" | "desc";
}

/**
 * A virtualised table with fixed-height rows: only the rows in view (plus a few) are in the
 * DOM, so 100,000 rows scroll as smoothly as 100. `rows` may be a ref'd array that grows in
 * place; `rowCount` says how much of it to show. With `follow`, the view sticks to the
 * bottom until the user scrolls up (reported through onFollowChange).
 */
export function VirtualTable<T>({
  rows,
  rowCount,
  columns,
  height = 480,
  rowHeight = 28,
  onOpen,
  rowKey,
  testId,
  follow,
  onFollowChange,
  empty,
  sort,
  onSort,
}: {
  rows: readonly T[];
  rowCount: number;
  columns: Column<T>[];
  height?: number;
  rowHeight?: number;
  onOpen?: (row: T, index: number) => void;
  rowKey: (row: T) => string;
  testId: string;
  follow?: boolean;
  onFollowChange?: (follow: boolean) => void;
  empty?: ReactNode;
  sort?: TableSort | null;
  /** With it, every header is a button asking to sort by its column (the caller sorts the rows). */
  onSort?: (key: string) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const headH = 30;
  const programmatic = useRef(false);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !follow) return;
    const bottom = el.scrollHeight - el.clientHeight;
    if (el.scrollTop !== bottom) {
      programmatic.current = true;
      el.scrollTop = bottom;
      setScrollTop(el.scrollTop);
    }
  }, [rowCount, follow]);

  const onScroll = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    if (programmatic.current) {
      programmatic.current = false;
      return;
    }
    const atBottom = el.scrollHeight - el.clientHeight - el.scrollTop < rowHeight;
    if (onFollowChange && atBottom !== follow) onFollowChange(atBottom);
  }, [follow, onFollowChange, rowHeight]);

  useEffect(() => {
    if (rowCount === 0 && ref.current) ref.current.scrollTop = 0;
  }, [rowCount]);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - 5);
  const last = Math.min(rowCount, Math.ceil((scrollTop + height) / rowHeight) + 5);
  const visible: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const row = rows[i];
    if (row === undefined) continue;
    visible.push(
      <div
        key={rowKey(row)}
        className="vt-row"
        role="row"
        aria-rowindex={i + 2}
        tabIndex={onOpen ? 0 : -1}
        data-testid={`${testId}-row`}
        data-index={i}
        style={{ top: headH + i * rowHeight, height: rowHeight }}
        onClick={onOpen ? () => onOpen(row, i) : undefined}
        onKeyDown={
          onOpen
            ? (e) => {
                if (e.key === "Enter" || e.key === " ") {
                  e.preventDefault();
                  onOpen(row, i);
                }
              }
            : undefined
        }
      >
        {columns.map((c) => (
          <div
            key={c.key}
            role="cell"
            className="vt-cell"
            style={{ width: c.width, flex: c.width === "auto" ? 1 : undefined, textAlign: c.align }}
            data-col={c.key}
          >
            {c.render(row, i)}
          </div>
        ))}
      </div>,
    );
  }
  return (
    <div
      ref={ref}
      className="vt"
      style={{ height }}
      onScroll={onScroll}
      role="table"
      aria-rowcount={rowCount + 1}
      data-testid={testId}
      data-rows={rowCount}
    >
      <div className="vt-head" role="row" style={{ height: headH, alignItems: "center" }}>
        {columns.map((c) => (
          <div
            key={c.key}
            role="columnheader"
            className="vt-cell"
            style={{ width: c.width, flex: c.width === "auto" ? 1 : undefined, textAlign: c.align }}
            aria-sort={onSort ? (sort?.key === c.key ? (sort.dir === "asc" ? "ascending" : "descending") : "none") : undefined}
          >
            {onSort ? (
              <button
                type="button"
                className="vt-sort"
                data-testid={`${testId}-sort-${c.key}`}
                title={`Sort by ${c.header.toLowerCase()}`}
                onClick={() => onSort(c.key)}
              >
                {c.header}
                <span aria-hidden="true">{sort?.key === c.key ? (sort.dir === "asc" ? " ▲" : " ▼") : ""}</span>
              </button>
            ) : (
              c.header
            )}
          </div>
        ))}
      </div>
      <div style={{ height: rowCount * rowHeight }} />
      {visible}
      {rowCount === 0 && empty && (
        <div className="muted" style={{ position: "absolute", top: headH + 16, left: 16 }} data-testid={`${testId}-empty`}>
          {empty}
        </div>
      )}
    </div>
  );
}
