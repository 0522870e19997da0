// Validates an OpenRPC document with the official validator; exit status 1 and the
// validator's errors on stderr when it does not pass. Usage: node validate.mjs openrpc.json
import { readFileSync } from "node:fs";
import { validateOpenRPCDocument } from "@open-rpc/schema-utils-js";

const path = process.argv[2];
const document = JSON.parse(readFileSync(path, "utf8"));
const result = validateOpenRPCDocument(document);
if (result !== true) {
  console.error(`${path}: ${result.message}`);
  process.exit(1);
}
console.log(`${path}: valid OpenRPC ${document.openrpc}`);
