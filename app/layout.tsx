import type { ReactNode } from "react";
import "./globals.css";

export const metadata = {
  title: "Tributary",
  description: "Event streaming on PostgreSQL: topics, partitions, consumer groups, pipelines",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <a href="/" className="brand" data-testid="brand">
            Tributary
          </a>
          <nav>
            <a href="/">Topics</a>
            <a href="/api/v1/openapi.json">API</a>
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
