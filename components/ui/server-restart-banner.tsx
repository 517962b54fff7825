"use client";
import { useEffect, useState } from "react";
import { checkServerStart, onServerRestart } from "@/components/hooks/server-start";

/** A banner saying the server process restarted (after a crash) since this page loaded. */
export function ServerRestartBanner() {
  const [at, setAt] = useState<number | null>(null);
  const [dismissed, setDismissed] = useState<number | null>(null);
  useEffect(() => {
    checkServerStart(); // learn the start time this page began with
    return onServerRestart(setAt);
  }, []);
  if (at === null || dismissed === at) return null;
  return (
    <div className="notice restart-banner" role="status" data-testid="server-restarted">
      The server restarted at {new Date(at).toLocaleTimeString()}; live views reconnected.{" "}
      <button type="button" onClick={() => setDismissed(at)} data-testid="server-restarted-dismiss">
        Dismiss
      </button>
    </div>
  );
}
