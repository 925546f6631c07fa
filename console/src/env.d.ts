// esbuild bundles the stylesheet that main.ts imports into app-[hash].css.
declare module "*.css";
