// Makes sure what the test suite needs is there before it runs: a PostgreSQL server at
// TRIBUTARY_TEST_POSTGRES_URL (default 127.0.0.1:5432), started from Debian's cluster when it
// is installed but stopped. Plain JS so it runs before anything is compiled.
import { execSync } from "node:child_process";
import net from "node:net";

const url = new URL(process.env.TRIBUTARY_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
const host = url.hostname;
const port = Number(url.port || 5432);

function reachable() {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

if (!(await reachable())) {
  console.log(`prepare: no PostgreSQL at ${host}:${port}; trying to start the local cluster`);
  try {
    execSync('pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start', {
      stdio: "inherit",
      shell: "/bin/bash",
    });
  } catch {
    // reported below
  }
  for (let i = 0; i < 30 && !(await reachable()); i++) await new Promise((r) => setTimeout(r, 500));
  if (!(await reachable())) {
    console.error(
      `prepare: the tests need PostgreSQL at ${host}:${port} (set TRIBUTARY_TEST_POSTGRES_URL to use another); ` +
        "on Debian: apt-get install postgresql",
    );
    process.exit(1);
  }
}
console.log(`prepare: PostgreSQL at ${host}:${port} is reachable`);
