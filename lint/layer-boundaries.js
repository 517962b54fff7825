/**
 * ESLint rule `tributary/layer-boundaries`: the layer table of server/ARCHITECTURE.md as a check.
 *
 * Each layer is a folder (or file) of the repository; a source file belongs to the layer with the
 * longest matching path. An import from one layer into another must be named in the importing
 * layer's `allow` list (folders or files) and not in its `deny` list (narrower paths inside an
 * allowed folder, e.g. the implementations beside the interfaces), in its `allowTypes` list for an
 * import of types only, in the `shared` list every layer may import, or in `exceptions` for that file. Package imports
 * are checked against the layer's `packages` (only these) or `deniedPackages` (all but these).
 * The table itself lives in eslint.config.js, beside the exceptions and their reasons.
 */
import { builtinModules } from "node:module";
import path from "node:path";

const EXTENSIONS = /\.(ts|tsx|js|mjs|cjs|jsx)$/;

/** Repository-relative path with forward slashes and without a source extension. */
function normalize(relative) {
  return relative.split(path.sep).join("/").replace(EXTENSIONS, "");
}

/**
 * True when `target` is the entry itself or lies inside the folder the entry names; an entry
 * ending in `*` covers every path that starts with the rest (`server/broker/store/postgres-*`).
 */
function covers(entry, target) {
  if (entry.endsWith("*")) return target.startsWith(entry.slice(0, -1));
  const e = normalize(entry).replace(/\/$/, "");
  return target === e || target.startsWith(e + "/");
}

/** The package an import names: `@scope/name`, `name`, or `node:x` for Node's own modules. */
function packageName(specifier) {
  if (specifier.startsWith("node:")) return "node:" + specifier.slice(5).split("/")[0];
  if (builtinModules.includes(specifier.split("/")[0])) return "node:" + specifier.split("/")[0];
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function packageListed(list, name) {
  return list.some((p) => p === name || (p.endsWith("*") && name.startsWith(p.slice(0, -1))));
}

/** @type {import("eslint").Rule.RuleModule} */
export default {
  meta: {
    type: "problem",
    docs: { description: "Imports follow the layer table of server/ARCHITECTURE.md" },
    schema: [
      {
        type: "object",
        properties: {
          root: { type: "string" },
          aliases: { type: "object", additionalProperties: { type: "string" } },
          layers: { type: "array" },
          shared: { type: "array", items: { type: "string" } },
          exceptions: { type: "object" },
        },
        required: ["root", "layers"],
        additionalProperties: false,
      },
    ],
    messages: {
      layer: "{{from}} may not import {{target}} (layer {{targetLayer}}): see the layer table in server/ARCHITECTURE.md",
      package: "{{from}} may not import the package '{{name}}': see the layer table in server/ARCHITECTURE.md",
    },
  },
  create(context) {
    const { root, aliases = {}, layers, shared = [], exceptions = {} } = context.options[0];
    const fileRel = normalize(path.relative(root, context.filename));
    if (fileRel.startsWith("..")) return {};
    const layerOf = (rel) => {
      let best = null;
      for (const layer of layers) {
        if (covers(layer.path, rel) && (!best || normalize(layer.path).length > normalize(best.path).length)) best = layer;
      }
      return best;
    };
    const own = layerOf(fileRel);
    if (!own) return {};
    const fileExceptions = Object.entries(exceptions)
      .filter(([file]) => covers(file, fileRel))
      .flatMap(([, targets]) => targets);

    /** `import type …`, `export type … from`, or an import whose every specifier is a type. */
    function typesOnly(decl) {
      if (decl.importKind === "type" || decl.exportKind === "type") return true;
      const specifiers = decl.specifiers ?? [];
      return specifiers.length > 0 && specifiers.every((s) => s.importKind === "type" || s.exportKind === "type");
    }

    function check(node, specifier, types = false) {
      if (typeof specifier !== "string") return;
      let targetAbs = null;
      for (const [alias, dir] of Object.entries(aliases)) {
        if (specifier.startsWith(alias)) targetAbs = path.join(root, dir, specifier.slice(alias.length));
      }
      if (!targetAbs && (specifier.startsWith("./") || specifier.startsWith("../"))) {
        targetAbs = path.resolve(path.dirname(context.filename), specifier);
      }
      if (!targetAbs) {
        const name = packageName(specifier);
        const allowed = own.packages ? packageListed(own.packages, name) : !packageListed(own.deniedPackages ?? [], name);
        if (!allowed && !packageListed(fileExceptions, name)) {
          context.report({ node, messageId: "package", data: { from: own.path, name } });
        }
        return;
      }
      const target = normalize(path.relative(root, targetAbs));
      const targetLayer = layerOf(target);
      if (!targetLayer || targetLayer === own) return;
      const allowed = (own.allow ?? []).some((entry) => covers(entry, target));
      if (allowed && !(own.deny ?? []).some((entry) => covers(entry, target))) return;
      if (types && (own.allowTypes ?? []).some((entry) => covers(entry, target))) return;
      if (shared.some((entry) => covers(entry, target))) return;
      if (fileExceptions.some((entry) => covers(entry, target))) return;
      context.report({ node, messageId: "layer", data: { from: own.path, target, targetLayer: targetLayer.path } });
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value, typesOnly(node)),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value, typesOnly(node)),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === "Literal" && check(node.source, node.source.value),
    };
  },
};
