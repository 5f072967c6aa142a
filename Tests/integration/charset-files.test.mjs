// The DICOM standard's character-set test files (as pydicom ships them:
// Debian python3-pydicom, pydicom/data/charset_files), read at test time and
// never copied into the repository. Each goes through a real Orthanc with the
// plugin; every text value the store keeps (patient name and ID, study
// description, accession number, referring physician, institution, series
// description) must come out of the API exactly as pydicom decodes the same
// bytes. Orthanc 1.10.1 gets ISO 2022 IR 13\ISO 2022 IR 87 (chrH32.dcm,
// chrSQEncoding1.dcm) wrong; the plugin decodes those from the raw bytes.
//
// Each file is copied to a temporary folder with fresh Study/Series/SOP
// Instance UIDs (dcmodify -gst -gse -gin: two pairs of the files share UIDs,
// two have none); dcmodify keeps the other values' bytes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startOrthanc, uploadFile, dcmdumpTags, waitFor, waitIngestIdle, orthancStudyId, execFile } from '../lib/orthanc.mjs';
import { makeDicom, tempDir } from '../lib/dicom.mjs';

const CHARSET_DIR = process.env.READING_ROOM_CHARSET_FILES || '/usr/lib/python3/dist-packages/pydicom/data/charset_files';
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function pydicomAvailable() {
  try {
    execFileSync(PYTHON, ['-c', 'import pydicom'], { stdio: 'ignore' });
    return fs.existsSync(CHARSET_DIR);
  } catch {
    return false;
  }
}

const SKIP = pydicomAvailable() ? false
  : `pydicom's character-set test files are absent (${CHARSET_DIR}; install Debian's python3-pydicom, see Resources/scripts/install-deps.sh)`;

// pydicom's decoding of the raw bytes of each element (the oracle), trimmed as
// the plugin trims (DICOM pads with spaces; leading spaces are not significant
// for these VRs).
const ORACLE = String.raw`
import json, sys, pydicom
from pydicom.charset import decode_bytes, convert_encodings
FIELDS = {'patientName': (0x00100010, True), 'patientId': (0x00100020, False),
          'studyDescription': (0x00081030, False), 'accessionNumber': (0x00080050, False),
          'referringPhysicianName': (0x00080090, True), 'institutionName': (0x00080080, False),
          'seriesDescription': (0x0008103E, False)}
out = {}
for f in sys.argv[1:]:
    ds = pydicom.dcmread(f)
    cs = ds.get('SpecificCharacterSet', '')
    terms = [cs] if isinstance(cs, str) else list(cs)
    encodings = convert_encodings([t.strip() for t in terms])
    r = {'charset': '\\'.join(terms).strip(), 'studyInstanceUid': str(ds.StudyInstanceUID)}
    for key, (tag, pn) in FIELDS.items():
        e = ds.get_item(tag)
        raw = e.value if e is not None and e.value is not None else b''
        if not isinstance(raw, bytes):
            raise SystemExit(f'{f}: {tag:08x} was decoded before the oracle saw its bytes')
        delims = {0x5c, 0x0d, 0x0a, 0x09, 0x0c} | ({0x5e, 0x3d} if pn else set())
        r[key] = decode_bytes(raw, encodings, delims).rstrip(' \0').lstrip(' ')
    out[os.path.basename(f)] = r
print(json.dumps(out, ensure_ascii=False))
`.replace('import json, sys, pydicom', 'import json, os, sys, pydicom');

const STUDY_FIELDS = ['patientName', 'patientId', 'studyDescription', 'accessionNumber', 'referringPhysicianName', 'institutionName'];

let orthanc;
let files = []; // names
let copies = {}; // name -> copy path
let oracle = {}; // name -> expected values

before(async () => {
  if (SKIP) return;
  files = fs.readdirSync(CHARSET_DIR).filter((f) => f.endsWith('.dcm')).sort();
  const dir = await tempDir('readingroom-charset-');
  for (const f of files) {
    copies[f] = path.join(dir, f);
    await makeDicom(path.join(CHARSET_DIR, f), copies[f], { genStudy: true, genSeries: true, genInstance: true });
  }
  oracle = JSON.parse(execFileSync(PYTHON, ['-c', ORACLE, ...files.map((f) => copies[f])], { encoding: 'utf8' }));
  orthanc = await startOrthanc();
  for (const f of files) {
    const r = await uploadFile(orthanc, copies[f]);
    assert.equal(r.status, 200, `${f}: upload ${r.text}`);
  }
  await waitFor(async () => (await orthanc.json('/api/dicom/studies?limit=500')).total === files.length, 20000, 100,
    `${files.length} studies in the worklist`);
  await waitIngestIdle(orthanc);
});

after(async () => {
  await orthanc?.stop();
});

test('pydicom ships the standard\'s character-set files', { skip: SKIP }, () => {
  // the ISO 2022 forms the plugin must decode itself are among them
  for (const f of ['chrH31.dcm', 'chrH32.dcm', 'chrI2.dcm', 'chrX1.dcm', 'chrX2.dcm', 'chrSQEncoding1.dcm']) {
    assert.ok(files.includes(f), `${f} in ${CHARSET_DIR}`);
  }
  assert.equal(oracle['chrH32.dcm'].charset, 'ISO 2022 IR 13\\ISO 2022 IR 87');
  assert.equal(oracle['chrH32.dcm'].patientName, 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう');
});

test('DCMTK (dcmconv +U8) agrees with pydicom wherever it can convert', { skip: SKIP }, async (t) => {
  let compared = 0;
  for (const f of files) {
    const u8 = `${copies[f]}.utf8.dcm`;
    try {
      await execFile('dcmconv', ['+U8', copies[f], u8]);
    } catch (e) {
      t.diagnostic(`${f}: dcmconv +U8 cannot convert (${String(e.stderr ?? e.message).trim().split('\n')[0]})`);
      continue;
    }
    const d = await dcmdumpTags(u8, ['PatientName'], { utf8: true });
    const want = oracle[f].patientName;
    assert.equal((d.PatientName ?? '').trim(), want, `${f}: DCMTK and pydicom disagree on PatientName`);
    compared++;
  }
  t.diagnostic(`${compared} of ${files.length} files compared with DCMTK`);
  assert.ok(compared >= files.length / 2, 'DCMTK converts at least half the files');
});

for (const f of fs.existsSync(CHARSET_DIR) ? fs.readdirSync(CHARSET_DIR).filter((n) => n.endsWith('.dcm')).sort() : []) {
  test(`${f}: every stored text value is the file's own text in UTF-8`, { skip: SKIP }, async () => {
    const want = oracle[f];
    const uid = want.studyInstanceUid;
    const d = await orthanc.json(`/api/dicom/studies/${uid}`);
    const oid = await orthancStudyId(orthanc, uid);
    const os = await orthanc.json(`/studies/${oid}`);
    const orthancSays = `Orthanc itself decodes PatientName=${JSON.stringify(os.PatientMainDicomTags.PatientName)}`;
    for (const k of STUDY_FIELDS) {
      assert.equal(d[k], want[k], `${f} (${want.charset}): ${k} (${orthancSays})`);
    }
    assert.equal(d.series.length, 1);
    assert.equal(d.series[0].seriesDescription, want.seriesDescription, `${f}: seriesDescription`);
    // the worklist shows the same
    const list = await orthanc.json(`/api/dicom/studies?limit=500`);
    const row = list.data.find((s) => s.studyInstanceUid === uid);
    assert.equal(row.patientName, want.patientName, `${f}: patientName in the worklist`);
  });
}

test('a Japanese name in ISO 2022 IR 13\\ISO 2022 IR 87 is found by its kanji and kana', { skip: SKIP }, async () => {
  for (const q of ['山田', 'たろう']) {
    const r = await orthanc.json(`/api/dicom/studies?patientName=${encodeURIComponent(q)}`);
    const uids = r.data.map((s) => s.studyInstanceUid);
    assert.ok(uids.includes(oracle['chrH32.dcm'].studyInstanceUid), `patientName=${q} finds chrH32`);
  }
});
