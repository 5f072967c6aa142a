// The worklist page's own JavaScript (the entry chunk and what index.html preloads) stays under 300 KB
// gzipped and never contains cornerstone3D: the viewer is a dynamic import() of the study page (issue 10).
// Builds the app with the project's vite.config.ts into a temporary folder.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from 'vite';

const root = join(__dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'rr-bundle-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bundle split', () => {
  it('the worklist loads < 300 KB gzipped JavaScript, the viewer is a separate chunk', { timeout: 180_000 }, async () => {
    await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'silent', build: { outDir: out, emptyOutDir: true } });
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    let gz = 0;
    for (const s of scripts) {
      const code = readFileSync(join(out, s));
      gz += gzipSync(code).length;
      expect(code.toString('utf8')).not.toContain('cornerstone-canvas');
    }
    expect(gz).toBeLessThan(300 * 1024);
    const assets = readdirSync(join(out, 'assets'));
    expect(assets.some((f) => /^viewer-.*\.js$/.test(f))).toBe(true);
    expect(assets.some((f) => f.endsWith('.wasm'))).toBe(true);
  });
});
