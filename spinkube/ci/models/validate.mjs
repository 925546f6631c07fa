// Validates custom resources against the maintained @kubernetes-models packages pinned in
// package-lock.json: their JSON schemas, generated from each project's CRDs / Go API (field
// types, enums, formats, required fields). They accept unknown fields (a structural CRD
// prunes them, and kubectl apply's strict field validation refuses them); the check_*
// functions of the tests in spinkube/ci read every field that matters.
//   postgresql.cnpg.io          @kubernetes-models/cloudnative-pg  (Cluster, Pooler, ScheduledBackup, ...)
//   gateway.networking.k8s.io   @kubernetes-models/gateway-api     (HTTPRoute, ReferenceGrant, ...)
//   keda.sh                     @kubernetes-models/keda            (ScaledObject, ...; no http.keda.sh)
// Usage: node validate.mjs NODE_MODULES_DIR < [{"id": "...", "obj": {...}}, ...]
// Prints one JSON array of {"id", "error"}; an empty array means every object is valid.
// An object of another group, or a kind its package lacks, is reported as an error.
// Imports by file path, since check.sh installs the packages outside this folder.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

// The one table of which API group a package covers; ci/validators.py reads it from this file.
export const PACKAGES = {
  "postgresql.cnpg.io": "@kubernetes-models/cloudnative-pg",
  "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
  "keda.sh": "@kubernetes-models/keda",
};

const modules = process.argv[2];
const items = JSON.parse(readFileSync(0, "utf8"));
const problems = [];
for (const { id, obj } of items) {
  const [group, version] = String(obj.apiVersion).split("/");
  const pkg = PACKAGES[group];
  if (!pkg || !version) {
    problems.push({ id, error: `no package carries ${obj.apiVersion}` });
    continue;
  }
  const file = join(modules, pkg, group, version, `${obj.kind}.js`);
  let Model;
  try {
    Model = (await import(pathToFileURL(file).href))[obj.kind];
  } catch {
    Model = undefined;
  }
  if (typeof Model !== "function") {
    problems.push({ id, error: `no model for ${obj.apiVersion} ${obj.kind} in ${pkg}` });
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    problems.push({ id, error: String(e.message ?? e) });
  }
}
process.stdout.write(JSON.stringify(problems));
