import { defineConfig } from 'vite';

// Served by Parley at /app/ (embedded in the server assembly); hashed assets are cached for a year.
export default defineConfig({
  base: '/app/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  test: {
    include: ['test/**/*.test.ts'],
  },
});
