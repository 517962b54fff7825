/**
 * The exactly-once scenario's result side by side: for the at-least-once and the exactly-once
 * processor, what the broker holds after each crashed between writing and committing — payments
 * deducted twice, accounts whose final balance is wrong, the amount overcharged, payments never
 * applied and updates written then aborted. The figures are the server's measures
 * (`<measure>AtLeastOnce`, `<measure>ExactlyOnce`); a count that should be 0 is marked when it is not.
 */
import { formatCount } from "../ui/format";

type Measures = Record<string, number | string | number[]>;

const MODES = [
  { suffix: "AtLeastOnce", label: "At-least-once" },
  { suffix: "ExactlyOnce", label: "Exactly-once" },
] as const;

const ROWS: readonly { measure: string; label: string; bad: boolean }[] = [
  { measure: "crashes", label: "crashes injected", bad: false },
  { measure: "duplicates", label: "payments deducted twice", bad: true },
  { measure: "wrongBalances", label: "accounts with a wrong balance", bad: true },
  { measure: "overcharged", label: "overcharged in all", bad: true },
  { measure: "missing", label: "payments never applied", bad: true },
  { measure: "abortedUpdates", label: "updates written, then aborted", bad: false },
];

/** Whether a measure is one of the compared ones (shown in the table, not in the plain list). */
export const isComparedMeasure = (name: string) => MODES.some((m) => name.endsWith(m.suffix));

export function DeliveryComparison({ measures }: { measures: Measures }) {
  if (!ROWS.some((r) => `${r.measure}AtLeastOnce` in measures)) return null;
  return (
    <table className="topo-compare" data-testid="scenario-delivery-comparison">
      <thead>
        <tr>
          <th />
          {MODES.map((m) => (
            <th key={m.suffix}>{m.label}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {ROWS.map((r) => (
          <tr key={r.measure}>
            <th scope="row">{r.label}</th>
            {MODES.map((m) => {
              const v = measures[`${r.measure}${m.suffix}`];
              const n = typeof v === "number" ? v : null;
              return (
                <td
                  key={m.suffix}
                  className={r.bad && n !== null ? (n > 0 ? "bad" : "good") : undefined}
                  data-testid={`scenario-compare-${r.measure}${m.suffix}`}
                >
                  {n === null ? "—" : formatCount(n)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
