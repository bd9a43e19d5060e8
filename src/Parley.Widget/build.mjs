// Bundles src/index.ts into dist/widget.js (one IIFE, minified, no dependencies) and reports
// its size: dotnet build of Parley.Server runs this and embeds the result as /widget.js.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

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
const bytes = readFileSync('dist/widget.js');
const gzipped = gzipSync(bytes, { level: 9 }).length;
const line = `widget.js: ${bytes.length} bytes, ${gzipped} bytes gzipped (budget ${budget})`;
writeFileSync('dist/size.txt', line + '\n');
console.log(line);
if (gzipped > budget) {
  console.error(`widget.js is over its ${budget}-byte gzipped budget`);
  process.exit(1);
}
