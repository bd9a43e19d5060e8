// Bundles src/index.ts into dist/widget.js (one IIFE, minified, no dependencies) and reports
// its size: dotnet build of Parley.Server runs this and embeds the result as /widget.js.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { precompress } from '../Parley.Client/precompress.mjs';

const budget = 30 * 1024;
mkdirSync('dist', { recursive: true });
await build({
  entryPoints: ['src/index.ts'],
  outfile: 'dist/widget.js',
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'none',
  logLevel: 'warning',
});
// Parley serves the copy the browser accepts: Brotli, gzip, or the file itself.
const sizes = precompress('dist/widget.js');
const gzipped = sizes.gz;
const line = `widget.js: ${sizes.raw} bytes, ${sizes.br} bytes brotli, ${gzipped} bytes gzipped (budget ${budget})`;
writeFileSync('dist/size.txt', line + '\n');
console.log(line);
if (gzipped > budget) {
  console.error(`widget.js is over its ${budget}-byte gzipped budget`);
  process.exit(1);
}
