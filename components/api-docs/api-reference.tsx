"use client";
import { ApiReferenceReact } from "@scalar/api-reference-react";
import "@scalar/api-reference-react/style.css";
import "./api-reference.css";
import { useMemo } from "react";
import { useDarkMode } from "./use-dark-mode";

/**
 * The interactive API reference (Scalar), rendered from /api/v1/openapi.json with the library's
 * own bundled code and styles: no fonts, telemetry, proxy or agent from the network. Try-it-out
 * sends its requests straight to this server, from this page's origin. Rendered in the browser
 * only (see api-reference-loader.tsx).
 */
export function ApiReference() {
  const dark = useDarkMode();
  const configuration = useMemo(
    () => ({
      url: "/api/v1/openapi.json",
      servers: [{ url: window.location.origin, description: "this server" }],
      forceDarkModeState: dark ? ("dark" as const) : ("light" as const),
      hideDarkModeToggle: true,
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      mcp: { disabled: true },
      showDeveloperTools: "never" as const,
      // "Open API Client" links to Scalar's hosted client, which would fetch our document from there
      hideClientButton: true,
      documentDownloadType: "json" as const,
      metaData: { title: "API · Tributary" },
    }),
    [dark],
  );
  return (
    <div className="api-reference" data-testid="api-reference" data-theme-mode={dark ? "dark" : "light"}>
      {/* Scalar reads its colour mode once, as it mounts: a theme change mounts it anew */}
      <ApiReferenceReact key={dark ? "dark" : "light"} configuration={configuration} />
    </div>
  );
}
