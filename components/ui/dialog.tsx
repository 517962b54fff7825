"use client";
import { useEffect, useRef, type ReactNode } from "react";

/**
 * A modal on the native <dialog> (focus kept inside, Escape closes, focus returns to the
 * opener), rendered only while open.
 */
export function Dialog({
  open,
  onClose,
  title,
  children,
  testId,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  testId: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    // the close event also fires when `open` turned false (the effect above): that close was the
    // owner's own doing, so it is not reported back (a second onClose could undo what followed it)
    <dialog ref={ref} onClose={() => open && onClose()} data-testid={testId} aria-labelledby={`${testId}-title`}>
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
