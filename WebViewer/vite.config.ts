import { defineConfig } from 'vitest/config';

// Served by the Orthanc plugin under /reading-room/: every URL must be relative.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    // no data: URIs, so a strict Content-Security-Policy (default-src 'self') works
    assetsInlineLimit: 0,
    // default asset names are hashed: assets/[name]-[hash].[ext]
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    env: { TZ: 'UTC' },
  },
});
