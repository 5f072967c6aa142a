// Helpers to build synthetic DICOM test files with DCMTK's dcmodify, and to
// encode strings in DICOM character sets (Node built-ins + iconv(1) only).

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile, dcmdumpTags } from './orthanc.mjs';

/** A fresh UID under the 2.25 (UUID-derived) root. */
export function newUid() {
  return '2.25.' + BigInt('0x' + crypto.randomBytes(16).toString('hex')).toString();
}

const tempDirs = new Set();
process.on('exit', () => {
  if (process.env.KEEP_TEST_DIRS === '1') return;
  for (const d of tempDirs) {
    try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  }
});

/** A temp dir removed at process exit (unless KEEP_TEST_DIRS=1). */
export async function tempDir(prefix = 'readingroom-dicom-') {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

// --- character sets -------------------------------------------------------

function offsetEncoder(name, ranges) {
  // ranges: [[firstCodePoint, lastCodePoint, firstByte], ...]; ASCII passes through
  return (str) => {
    const out = [];
    for (const ch of str) {
      const cp = ch.codePointAt(0);
      if (cp < 0x80) { out.push(cp); continue; }
      const r = ranges.find(([a, b]) => cp >= a && cp <= b);
      if (!r) throw new Error(`${name}: cannot encode U+${cp.toString(16).padStart(4, '0')} (${ch})`);
      out.push(r[2] + (cp - r[0]));
    }
    return Buffer.from(out);
  };
}

function iconvEncoder(target) {
  return (str) => execFileSync('iconv', ['-f', 'UTF-8', '-t', target], { input: Buffer.from(str, 'utf8') });
}

export const encoders = {
  // ISO_IR 100 (Latin-1): U+0000..U+00FF map 1:1
  latin1: (s) => {
    for (const ch of s) if (ch.codePointAt(0) > 0xff) throw new Error(`latin1: cannot encode ${ch}`);
    return Buffer.from(s, 'latin1');
  },
  utf8: (s) => Buffer.from(s, 'utf8'),
  // ISO_IR 144 = ISO 8859-5 (Cyrillic): U+0401..U+040C -> A1..AC, U+040E..U+044F -> AE..EF, U+0451..U+045C -> F1..FC, U+045E/F -> FE/FF
  'iso-8859-5': offsetEncoder('ISO-8859-5', [[0x0401, 0x040c, 0xa1], [0x040e, 0x044f, 0xae], [0x0451, 0x045c, 0xf1], [0x045e, 0x045f, 0xfe]]),
  // ISO_IR 127 = ISO 8859-6 (Arabic): U+060C -> AC, U+061B -> BB, U+061F -> BF, U+0621..U+063A -> C1..DA, U+0640..U+0652 -> E0..F2
  'iso-8859-6': offsetEncoder('ISO-8859-6', [[0x060c, 0x060c, 0xac], [0x061b, 0x061b, 0xbb], [0x061f, 0x061f, 0xbf], [0x0621, 0x063a, 0xc1], [0x0640, 0x0652, 0xe0]]),
  // ISO_IR 126 = ISO 8859-7 (Greek): U+0386..U+03CE -> B6..FE (U+0384/0385 -> B4/B5)
  'iso-8859-7': offsetEncoder('ISO-8859-7', [[0x0384, 0x0386, 0xb4], [0x0388, 0x038a, 0xb8], [0x038c, 0x038c, 0xbc], [0x038e, 0x03a1, 0xbe], [0x03a3, 0x03ce, 0xd3]]),
  // ISO_IR 138 = ISO 8859-8 (Hebrew): U+05D0..U+05EA -> E0..FA
  'iso-8859-8': offsetEncoder('ISO-8859-8', [[0x05d0, 0x05ea, 0xe0]]),
  gb18030: iconvEncoder('GB18030'),
  // ISO 2022 IR 87 (JIS X 0208 in G0, ESC $ B ... ESC ( B) == ISO-2022-JP for these characters
  'iso-2022-jp': iconvEncoder('ISO-2022-JP'),
};

export function encode(str, encoding) {
  const enc = encoders[encoding];
  if (!enc) throw new Error(`unknown encoding ${encoding}`);
  return enc(str);
}

// --- building files -------------------------------------------------------

function tagPath(t) {
  return /^[0-9a-fA-F]{4},[0-9a-fA-F]{4}$/.test(t) ? `(${t})` : t;
}

/**
 * Copy `src` to `out` and modify it with dcmodify.
 *   set:   { '0010,0010': 'DOE^JOHN' | Buffer(raw bytes) , PatientID: '...' }
 *          (strings via dcmodify -i, ASCII only; Buffers byte-exactly via
 *          --insert-from-file, padded with one space to an even length)
 *   erase: ['0008,0050', ...]
 *   genStudy/genSeries/genInstance: generate new UIDs (dcmodify -gst/-gse/-gin)
 * After writing, every value in `set` is read back with dcmdump and compared
 * byte-for-byte (trailing padding ignored); a mismatch throws.
 */
export async function makeDicom(src, out, { set = {}, erase = [], genStudy = false, genSeries = false, genInstance = true, verify = true } = {}) {
  await fsp.copyFile(src, out);
  await fsp.chmod(out, 0o644);
  const work = await tempDir('readingroom-values-');
  const args = ['-nb'];
  if (genStudy) args.push('-gst');
  if (genSeries) args.push('-gse');
  if (genInstance) args.push('-gin');
  for (const t of erase) args.push('-ea', tagPath(t));
  let i = 0;
  for (const [tag, value] of Object.entries(set)) {
    if (!Buffer.isBuffer(value)) {
      // plain strings go through argv (dcmodify pads odd lengths itself)
      args.push('-i', `${tagPath(tag)}=${value}`);
    } else {
      // raw bytes go through a file; dcmodify refuses odd lengths from files,
      // so pad with a trailing space as DICOM does for text VRs
      const bytes = value.length % 2 ? Buffer.concat([value, Buffer.from(' ')]) : value;
      const f = path.join(work, `v${i++}.bin`);
      await fsp.writeFile(f, bytes);
      args.push('-if', `${tagPath(tag)}=${f}`);
    }
  }
  args.push(out);
  await execFile('dcmodify', args);
  if (verify && Object.keys(set).length) {
    const tags = Object.keys(set);
    const got = await dcmdumpTags(out, tags);
    for (const tag of tags) {
      const want = Buffer.isBuffer(set[tag]) ? set[tag] : Buffer.from(String(set[tag]), 'utf8');
      const have = got[tag] === null ? null : Buffer.from(got[tag], 'latin1');
      const trim = (b) => {
        let n = b.length;
        while (n > 0 && (b[n - 1] === 0x20 || b[n - 1] === 0x00)) n--;
        return b.subarray(0, n);
      };
      if (!have || !trim(have).equals(trim(want))) {
        throw new Error(`makeDicom: ${out}: ${tag} is ${have ? have.toString('hex') : 'missing'}, wanted ${want.toString('hex')}`);
      }
    }
  }
  return out;
}
