// README's "Source layout" names every module of the web app, every test file and every C file of the
// store (Plugin/store/; kept true by this test).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const layout = readme.slice(readme.indexOf('Source layout'), readme.indexOf('## AI analysis'));

describe("README's source layout of the web app", () => {
  it('lists every module of WebViewer/src', () => {
    const modules = readdirSync(join(root, 'WebViewer', 'src')).filter((f) => f.endsWith('.ts'));
    expect(modules.filter((m) => !layout.includes(`\`${m}\``))).toEqual([]);
  });

  it('lists every Vitest and browser test', () => {
    const unit = readdirSync(join(root, 'WebViewer', 'test')).filter((f) => f.endsWith('.test.ts')).map((f) => f.replace(/\.test\.ts$/, ''));
    const browser = readdirSync(join(root, 'Tests', 'browser')).filter((f) => f.endsWith('.test.mjs')).map((f) => f.replace(/\.test\.mjs$/, ''));
    expect([...unit, ...browser].filter((t) => !layout.includes(`\`${t}\``))).toEqual([]);
  });
});

describe("README's source layout of the store", () => {
  it('lists every C file of Plugin/store', () => {
    const files = readdirSync(join(root, 'Plugin', 'store')).filter((f) => f.endsWith('.c'));
    expect(files.filter((f) => !layout.includes(`\`${f}\``))).toEqual([]);
  });
});
