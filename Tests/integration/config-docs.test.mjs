// The documentation of the configuration stays true: orthanc.json.example's
// ReadingRoom section has exactly the options of the embedded defaults
// (Resources/DefaultConfiguration.json), with the same types and default
// values, and README.md's configuration table names every option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lib/orthanc.mjs';

/** Strip // comments outside strings (the example is commented JSON, as Orthanc reads it). */
function stripComments(text) {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

/** Leaf options as [dotted path, value]. */
function leaves(obj, prefix = '') {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) ? leaves(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v]]);
}

const defaults = JSON.parse(fs.readFileSync(path.join(repoRoot, 'Resources', 'DefaultConfiguration.json'), 'utf8'));
const example = JSON.parse(stripComments(fs.readFileSync(path.join(repoRoot, 'orthanc.json.example'), 'utf8')));
const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

test('orthanc.json.example has every ReadingRoom option, and only those, with the defaults', () => {
  const want = leaves(defaults);
  const have = new Map(leaves(example.ReadingRoom));
  assert.deepEqual([...have.keys()].sort(), want.map(([k]) => k).sort());
  // the example may choose other values for a few options (paths, roots), but never another type
  for (const [k, v] of want) assert.equal(typeof have.get(k), typeof v, `${k}: type`);
  for (const k of ['AI.Provider', 'AI.AllowCloud', 'AI.Model', 'Auth.Enable', 'AI.AutoAnalyze.Enable']) {
    assert.deepEqual(have.get(k), new Map(want).get(k), `${k}: the example keeps the safe default`);
  }
});

test('README.md documents every option in its configuration table', () => {
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## How it works'));
  for (const [k] of leaves(defaults)) {
    assert.ok(section.includes(`\`${k}\``), `README.md does not document ${k}`);
  }
});
