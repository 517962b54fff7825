import Link from "next/link";

export const metadata = { title: "Not found · Tributary" };

/** Any page that does not exist: say so, and offer the way back. */
export default function NotFound() {
  return (
    <section data-testid="not-found-page" className="stack" style={{ maxWidth: 640, margin: "48px auto", gap: 12 }}>
      <div className="small muted">404</div>
      <h1 style={{ margin: 0 }}>This page does not exist</h1>
      <p className="muted" style={{ margin: 0 }}>
        The address may be mistyped, or it links to something that was deleted. Topics, groups and transactions each have a page under their
        list.
      </p>
      <nav aria-label="Back to the console" className="row" style={{ gap: 8, flexWrap: "wrap" }}>
        <Link href="/" className="btn primary" data-testid="not-found-home">
          Overview
        </Link>
        <Link href="/topics" className="btn" data-testid="not-found-topics">
          Topics
        </Link>
        <Link href="/groups" className="btn">
          Consumer groups
        </Link>
        <Link href="/transactions" className="btn">
          Transactions
        </Link>
      </nav>
    </section>
  );
}
