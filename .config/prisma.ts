// Prisma CLI configuration (`prisma migrate deploy`, `prisma generate`) for machines that can run
// the CLI. Tributary itself applies prisma/migrations at start-up (server/db/migrate.ts).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "../prisma/schema.prisma",
  migrations: { path: "../prisma/migrations" },
  // process.env rather than env(): env() throws when the variable is unset, which would break
  // `prisma generate` on machines that use the embedded database.
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
