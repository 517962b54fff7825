/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // Responses are not gzipped here: record batches barely compress and it cost the server CPU
  // on every fetch; put a compressing proxy in front when serving over slow links.
  compress: false,
  // The server process (server/main.ts) owns the database drivers and the broker; route
  // handlers reach it through server/api/registry.ts and must never bundle these.
  serverExternalPackages: ["pg", "@prisma/client", "@prisma/adapter-pg", "@electric-sql/pglite", "@electric-sql/pglite-socket", "ws"],
  // `npm run typecheck` (tsc) checks types; the build does not repeat it.
  typescript: { ignoreBuildErrors: true },
};

export default nextConfig;
