// The viewer's keyboard shortcuts: one table (viewer-model.ts SHORTCUTS) renders the "?" overlay and must equal
// the README's shortcut table under "Image viewer (study page)", row by row.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHORTCUTS, shortcutText } from '../src/viewer-model';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The rows of the README's "| input | action |" table in the viewer section. */
function readmeShortcuts(): Array<{ keys: string; action: string }> {
  const section = readme.slice(readme.indexOf('### Image viewer (study page)'));
  const start = section.indexOf('| input | action |');
  expect(start).toBeGreaterThan(0);
  const rows: Array<{ keys: string; action: string }> = [];
  for (const line of section.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const cells = line.slice(1, -1).split(' | ').map((c) => c.trim());
    expect(cells).toHaveLength(2);
    rows.push({ keys: cells[0]!, action: cells[1]! });
  }
  return rows;
}

describe('keyboard shortcuts', () => {
  it("the README's table equals the viewer's table", () => {
    expect(readmeShortcuts()).toEqual(SHORTCUTS.map((s) => ({ keys: s.keys, action: s.action })));
  });

  it('cover every key the viewer handles', () => {
    const all = SHORTCUTS.map((s) => s.keys).join(' ');
    for (const k of ['`Space`', '`0`', '`1`', '`6`', '`I`', '`H`', '`V`', '`T`', '`F`', '`R`', '`M`', '`W`', '`L`', '`Y`', '`Q`', '`J`', '`S`', '`?`', 'PgUp', 'Home', 'Ctrl+wheel']) {
      expect(all).toContain(k);
    }
  });

  it('are shown as plain text in the overlay (no Markdown backticks)', () => {
    const f = shortcutText(SHORTCUTS.find((s) => s.keys === '`F`')!);
    expect(f).toEqual({ keys: 'F', action: 'fit the image to the viewport (zoom and pan only)' });
    for (const s of SHORTCUTS.map(shortcutText)) expect(`${s.keys}${s.action}`).not.toContain('`');
  });
});
