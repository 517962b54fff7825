"use client";
import { useEffect, useRef, type ReactNode } from "react";

/**
 * A modal on the native <dialog> (focus kept inside, Escape closes, focus returns to the
 * opener), rendered only while open.
 */
export function Dialog({ open, onClose, title, children, testId }: { open: boolean; onClose: () => void; title: string; children: ReactNode; testId: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} onClose={onClose} data-testid={testId} aria-labelledby={`${testId}-title`}>
      {open && (
        <>
          <h2 id={`${testId}-title`} style={{ marginTop: 0 }}>
            {title}
          </h2>
          {children}
        </>
      )}
    </dialog>
  );
}
