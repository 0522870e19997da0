// Feeds an OpenRPC document to @open-rpc/typings, the OpenRPC project's type
// generator, and reports what it made of it: typings in each of its languages,
// the TypeScript ones type-checked with `tsc --strict`. Usage:
//   node typings.mjs openrpc.json OUT_DIR
// writes OUT_DIR/<language>.txt and prints one JSON object on stdout:
//   { languages: {typescript: chars, ...}, methodTypings: [names],
//     schemaTypingsErrors: [tsc messages], methodTypingsErrors: [tsc messages] }
// Exit status 1 when the tool cannot read the document at all.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import typingsModule from "@open-rpc/typings";
import { parseOpenRPCDocument } from "@open-rpc/schema-utils-js";
import ts from "typescript";

const Typings = typingsModule.default ?? typingsModule;
const [path, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });

// The tool prints a deprecation notice for `"type": [T, "null"]` to the
// console; it belongs in the report, not mixed into stdout.
const notices = new Set();
console.log = console.warn = (...args) => notices.add(args.flat().join(" "));

let document;
try {
  // The generator needs the document dereferenced, as its own CLI does first.
  document = await parseOpenRPCDocument(readFileSync(path, "utf8"));
} catch (e) {
  process.stderr.write(`${path}: @open-rpc/typings cannot read it: ${e.message}\n`);
  process.exit(1);
}

const languages = {};
for (const language of ["typescript", "rust", "go", "python"]) {
  const text = new Typings(document).toString(language, {
    includeSchemaTypings: true,
    includeMethodAliasTypings: true,
  });
  writeFileSync(join(out, `${language}.txt`), text);
  languages[language] = text.length;
}

/** tsc --strict over `text` as one module: its error messages. */
function typeCheck(name, text) {
  const file = join(out, name);
  writeFileSync(file, text);
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    types: [],
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n").slice(0, 200));
}

const typings = new Typings(document);
const schemas = typings.toString("typescript", { includeSchemaTypings: true, includeMethodAliasTypings: false });
const all = typings.toString("typescript", { includeSchemaTypings: true, includeMethodAliasTypings: true });
const methodTypings = [...all.matchAll(/^export type (\w+) = \(/gm)].map((m) => m[1]);

process.stdout.write(
  JSON.stringify({
    languages,
    methodTypings,
    schemaTypingsErrors: typeCheck("schemas.ts", schemas),
    methodTypingsErrors: typeCheck("all.ts", all),
    notices: [...notices],
  }) + "\n",
);
