"use client";
import { useEffect, useRef, useState } from "react";
import { SHORTCUTS } from "./canvas";

/** The keyboard shortcuts, in a popover by the toolbar's “?” button. */
export function HelpPopover() {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === "Escape" : !ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    document.addEventListener("keydown", close);
    return () => {
      document.removeEventListener("mousedown", close);
      document.removeEventListener("keydown", close);
    };
  }, [open]);
  return (
    <div className="pe-help" ref={ref}>
      <button
        type="button"
        aria-expanded={open}
        aria-label="keyboard shortcuts"
        data-testid="help-button"
        onClick={() => setOpen((o) => !o)}
      >
        ?
      </button>
      {open && (
        <div className="pe-popover" role="dialog" aria-label="keyboard shortcuts" data-testid="help-popover">
          <h3>Keyboard shortcuts</h3>
          <table>
            <tbody>
              {SHORTCUTS.map(([keys, what]) => (
                <tr key={keys}>
                  <td>
                    <kbd>{keys}</kbd>
                  </td>
                  <td>{what}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="small muted">On a Mac, ⌘ works as Ctrl.</p>
        </div>
      )}
    </div>
  );
}
