import { defineConfig } from 'vitest/config';

// Served by the Orthanc plugin under /reading-room/: every URL must be relative.
// cornerstone3D (the study page's viewer, loaded lazily): its DICOM image loader starts its decode workers and
// WASM codecs with new URL(…, import.meta.url), which Vite must see unbundled (optimizeDeps.exclude) and emit
// as ES-module workers; dicom-parser is CommonJS and must be pre-bundled (../shared/NOTES.md, cornerstone3D).
export default defineConfig({
  base: './',
  optimizeDeps: {
    exclude: ['@cornerstonejs/dicom-image-loader'],
    include: ['dicom-parser'],
  },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    // the lazily loaded viewer chunk (cornerstone3D) is ≈3.6 MB; the worklist's own chunk is checked by
    // test/bundle-size.test.ts
    chunkSizeWarningLimit: 4096,
    // no data: URIs, so a strict Content-Security-Policy (default-src 'self') works
    assetsInlineLimit: 0,
    // default asset names are hashed: assets/[name]-[hash].[ext]
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    env: { TZ: 'UTC' },
    // the test files of a worker share its module cache instead of each importing everything again
    // (57 s -> 20 s on two cores): no file uses vi.mock, and every file that stubs globals or fakes timers
    // restores them; a file that leaves state behind in a module must reset it itself
    isolate: false,
  },
});
