"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/", label: "Overview", testId: "nav-overview" },
  { href: "/topics", label: "Topics", testId: "nav-topics" },
  { href: "/groups", label: "Consumer groups", testId: "nav-groups" },
  { href: "/transactions", label: "Transactions", testId: "nav-transactions" },
  { href: "/pipelines", label: "Pipelines", testId: "nav-pipelines" },
  { href: "/topology", label: "Topology", testId: "nav-topology" },
  { href: "/api/docs", label: "API", testId: "nav-api" },
];

export function NavLinks() {
  const path = usePathname();
  return (
    <nav aria-label="Main">
      {LINKS.map((l) => {
        const active = l.href === "/" ? path === "/" : path.startsWith(l.href);
        return (
          <Link key={l.href} href={l.href} data-testid={l.testId} aria-current={active ? "page" : undefined}>
            {l.label}
          </Link>
        );
      })}
    </nav>
  );
}
