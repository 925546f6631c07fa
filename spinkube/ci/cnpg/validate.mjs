// Validates CloudNativePG objects against @kubernetes-models/cloudnative-pg (its JSON
// schemas, generated from CloudNativePG's Go API: field types, enums, required fields).
// Usage: node validate.mjs NODE_MODULES_DIR < [{"id": "...", "obj": {...}}, ...]
// Prints one JSON array of {"id", "error"}; an empty array means every object is valid.
// Imports by file path, since check.sh installs the package outside this folder.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
const items = JSON.parse(readFileSync(0, "utf8"));
const problems = [];
for (const { id, obj } of items) {
  const [group, version] = String(obj.apiVersion).split("/");
  const file = join(modules, "@kubernetes-models/cloudnative-pg", group, version, `${obj.kind}.js`);
  let Model;
  try {
    Model = (await import(pathToFileURL(file).href))[obj.kind];
  } catch {
    problems.push({ id, error: `no model for ${obj.apiVersion} ${obj.kind} in the package` });
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    problems.push({ id, error: String(e.message ?? e) });
  }
}
process.stdout.write(JSON.stringify(problems));
