// Creates an embedded database folder (PGlite's initdb) and exits: run as a child process by
// embedded-postgres.ts, so the second Postgres instance initdb needs (~300 MB of WASM memory)
// goes back to the operating system with this process instead of lingering in the server's
// heap until a full garbage collection. Arguments: the folder, then Postgres `-c` settings.
import { PGlite } from "@electric-sql/pglite";

const [dir, ...settings] = process.argv.slice(2);
const db = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, ...settings.flatMap((s) => ["-c", s])] });
await db.close();
