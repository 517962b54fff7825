import type { ReactNode } from "react";
import Link from "next/link";
import { NavLinks } from "@/components/ui/nav-links";
import { Providers } from "@/components/ui/providers";
import { ServerRestartBanner } from "@/components/ui/server-restart-banner";
import { THEME_SCRIPT, ThemeToggle } from "@/components/ui/theme-toggle";
import "./globals.css";

export const metadata = {
  title: "Tributary",
  description: "Event streaming on PostgreSQL: topics, partitions, consumer groups, pipelines",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <Providers>
          <header className="topbar">
            <Link href="/" className="brand" data-testid="brand">
              Tributary
            </Link>
            <NavLinks />
            <ThemeToggle />
          </header>
          <ServerRestartBanner />
          <main>{children}</main>
        </Providers>
      </body>
    </html>
  );
}
