// A pipeline thread's entry: the TypeScript loader first (a worker does not inherit the
// process's --import hooks), then the thread itself (pipeline-thread.ts).
import { register } from "tsx/esm/api";

register();
await import("./pipeline-thread.ts");
