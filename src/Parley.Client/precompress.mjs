// Writes a Brotli (.br) and a gzip (.gz) copy beside each text asset of a build, at the strongest
// settings: Parley embeds them and serves the one the browser accepts (docs/widget.md).
//   node precompress.mjs <folder>      (or import { precompress } from it)
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const compressible = /\.(js|css|html|svg|json|txt)$/;

/** Compresses the file; returns the sizes in bytes: { raw, br, gz }. */
export function precompress(file) {
  const bytes = readFileSync(file);
  const br = brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });
  const gz = gzipSync(bytes, { level: 9 });
  writeFileSync(`${file}.br`, br);
  writeFileSync(`${file}.gz`, gz);
  return { raw: bytes.length, br: br.length, gz: gz.length };
}

/** Every compressible file below the folder. */
export function precompressFolder(folder) {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) {
      precompressFolder(path);
    } else if (compressible.test(name)) {
      precompress(path);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  precompressFolder(process.argv[2] ?? 'dist');
}
