// Builds the console into dist/: assets/app-[hash].js and .css (minified), and
// index.html pointing at them under /console/assets/. `node build.mjs --sourcemap`
// also writes linked source maps.

import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
const assets = join(dist, "assets");
const PUBLIC_PATH = "/console/assets";
const sourcemap = process.argv.includes("--sourcemap");

await rm(dist, { recursive: true, force: true });
await mkdir(assets, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: "src/main.ts" },
  outdir: assets,
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022", "chrome111", "firefox113", "safari16.4"],
  sourcemap: sourcemap ? "linked" : false,
  legalComments: "eof",
  metafile: true,
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
});

const outputs = Object.keys(result.metafile.outputs);
const find = (ext) => {
  const found = outputs.filter((o) => o.endsWith(ext) && basename(o).startsWith("app-"));
  if (found.length !== 1) throw new Error(`expected one app-*${ext}, got ${found.join(", ") || "none"}`);
  return basename(found[0]);
};
const js = find(".js");
const css = find(".css");

const template = await readFile(join(root, "index.html"), "utf8");
for (const placeholder of ["%APP_JS%", "%APP_CSS%"]) {
  if (!template.includes(placeholder)) throw new Error(`index.html has no ${placeholder}`);
}
const html = template.replace("%APP_JS%", `${PUBLIC_PATH}/${js}`).replace("%APP_CSS%", `${PUBLIC_PATH}/${css}`);
await writeFile(join(dist, "index.html"), html);

for (const file of ["index.html", ...outputs.map((o) => join("assets", basename(o)))]) {
  const { size } = await stat(join(dist, file));
  console.log(`dist/${file}  ${(size / 1024).toFixed(1)} KiB`);
}
