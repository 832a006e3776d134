#!/usr/bin/env node
// `npm run build` compiles TypeScript only; this copies what the compiled code reads at run time
// next to it, where its __dirname-relative paths look: the approval console's static files
// (src/api/console.ts serves dist/src/api/console/) and the SQL migrations (src/db/migrate.ts reads
// dist/db/). Runs as the `postbuild` script.
const { cpSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
/** [source, destination] relative to the repository root; dist/ mirrors the source layout. */
const copies = [
  ['src/api/console', 'dist/src/api/console'],
  ['db', 'dist/db'],
];

function copyBuildAssets() {
  for (const [from, to] of copies) {
    rmSync(join(root, to), { recursive: true, force: true });
    cpSync(join(root, from), join(root, to), { recursive: true });
    console.log(`copied ${from} -> ${to}`);
  }
}

module.exports = { copies, copyBuildAssets };
if (require.main === module) copyBuildAssets();
