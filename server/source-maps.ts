/**
 * Source maps for the server's own modules only. The TypeScript loader (tsx) turns Node's
 * source maps on so that stack traces name the lines of our `.ts` files; with them on, Node reads,
 * parses and keeps the source map of every module it loads that names one, for the life of the
 * process. Next's production server and its route chunks (CommonJS, `.next/server/**` and
 * `node_modules/next/dist/compiled/**`) name theirs: kept, they held ~27 MB of the server's heap
 * (heap used once the console's routes had loaded: 92 MB with them, 63–66 MB without), to map
 * stack traces through code nobody edits, which Next's own production server does not map
 * either.
 *
 * So CommonJS modules load without their `sourceMappingURL` comment: the server's own code is ES
 * modules (the loader's maps stay, and so do those of any other ES module).
 */
import Module from "node:module";

type Compile = (this: unknown, content: string, filename: string, ...rest: unknown[]) => unknown;

const MARK = "sourceMappingURL=";

/**
 * `content` without its trailing source map comment (`//# sourceMappingURL=…` or
 * `/*# sourceMappingURL=… *\/`, only whitespace after it), or as it is when it has none.
 */
export function withoutSourceMapComment(content: string): string {
  const at = content.lastIndexOf(MARK);
  if (at < 0) return content;
  // "//#" or "/*#", then at least one whitespace, then the mark (Node's own rule)
  let i = at - 1;
  while (i >= 0 && (content[i] === " " || content[i] === "\t")) i--;
  if (i === at - 1 || i < 2 || content[i] !== "#" || content[i - 2] !== "/" || (content[i - 1] !== "/" && content[i - 1] !== "*"))
    return content;
  // the URL runs to the first whitespace (an inline map's may be megabytes long); a block
  // comment's "*/" and whitespace may follow
  const space = /\s/g;
  space.lastIndex = at;
  const end = space.exec(content)?.index ?? content.length;
  const rest = content.slice(end).trim();
  if (rest !== "" && rest !== "*/") return content;
  return content.slice(0, i - 2);
}

let installed = false;

/** From now on, CommonJS modules load without their source maps (idempotent). */
export function keepOwnSourceMapsOnly(): void {
  if (installed) return;
  installed = true;
  const proto = Module.prototype as unknown as { _compile: Compile };
  const compile = proto._compile;
  proto._compile = function (content, filename, ...rest) {
    return compile.call(this, withoutSourceMapComment(content), filename, ...rest);
  };
}
