// Rendered frames (PNG) against an independent reference: DCMTK's dcm2pnm
// (dcmj2pnm / dcml2pnm for JPEG / JPEG-LS) with the same window, or
// pydicom where DCMTK cannot do a case, must give the same grey levels within
// ±1 per channel (lossy JPEG: a small mean difference); lossless transfer
// syntaxes of one image must give identical PNGs; bad requests and images
// that are not displayable get clear errors. Covers palette_lut_overlay
// (PALETTE COLOR 8-bit and segmented 16-bit, Modality and VOI LUT
// Sequences), color_testpatterns (YBR JPEG, JPEG-LS and lossless RGB,
// palettes), a few color_rgb_ybr files (uncompressed YBR, 16-bit RGB) and
// enhanced_mr (frames 0 and 5 in five transfer syntaxes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startOrthanc, uploadFile, testData, waitIngestIdle, httpRequest } from '../lib/orthanc.mjs';
import { decodePng } from '../lib/png.mjs';

let orthanc;
const ids = {};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-render-'));
const FILES = {
  ct: 'ts_ct_matrix/CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm',
  ctImplicit: 'ts_ct_matrix/CTImage.dcm_LittleEndianImplicitTransferSyntax_1.2.840.10008.1.2.dcm',
  ctRle: 'ts_ct_matrix/CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm',
  ctJpegLs: 'ts_ct_matrix/CTImage.dcm_JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80.dcm',
  cr: 'cr_chest_mono1/gdcm-CR-MONO1-10-chest.dcm',
  signed: 'bitdepth_signed/SignedCT.dcm',
  // palette_lut_overlay
  palFace: 'palette_lut_overlay/OT-PAL-8-face.dcm', // 8-bit palette, no meta header, implicit VR
  palOb: 'palette_lut_overlay/OBXXXX1A.dcm', // 8-bit pixels, 16-bit palette entries
  palAloka: 'palette_lut_overlay/gdcm-US-ALOKA-16.dcm', // 16-bit pixels, segmented 16-bit palette
  mlut: 'palette_lut_overlay/mlut_18.dcm', // Modality LUT Sequence, signed pixels
  vlut: 'palette_lut_overlay/vlut_04.dcm', // VOI LUT Sequence
  mrOverlay: 'palette_lut_overlay/MR-SIEMENS-DICOM-WithOverlays.dcm', // two windows, overlay plane
  paramMap: 'palette_lut_overlay/parametric_map_float.dcm', // 32-bit float pixels
  // color_testpatterns
  tpYbr422: 'color_testpatterns/TestPattern_JPEG-Baseline_YBR422.dcm',
  tpYbrFull: 'color_testpatterns/TestPattern_JPEG-Baseline_YBRFull.dcm',
  tpJlsLossless: 'color_testpatterns/TestPattern_JPEG-LS-Lossless.dcm',
  tpJlsNear: 'color_testpatterns/TestPattern_JPEG-LS-NearLossless.dcm',
  tpJpegLossless: 'color_testpatterns/TestPattern_JPEG-Lossless_RGB.dcm',
  tpPalette: 'color_testpatterns/TestPattern_Palette.dcm',
  tpPalette16: 'color_testpatterns/TestPattern_Palette_16.dcm',
  // color_rgb_ybr
  scYbrFull: 'color_rgb_ybr/SC_ybr_full_uncompressed.dcm',
  scYbr422: 'color_rgb_ybr/SC_ybr_full_422_uncompressed.dcm',
  scRgb16: 'color_rgb_ybr/SC_rgb_16bit.dcm',
  // enhanced_mr: one 10-frame image in five transfer syntaxes
  emri: 'enhanced_mr/emri_small.dcm',
  emriRle: 'enhanced_mr/emri_small_RLE.dcm',
  emriBe: 'enhanced_mr/emri_small_big_endian.dcm',
  emriJ2k: 'enhanced_mr/emri_small_jpeg_2k_lossless.dcm',
  emriJls: 'enhanced_mr/emri_small_jpeg_ls_lossless.dcm',
};

// pydicom (Debian's python3-pydicom, with numpy) is the reference where
// DCMTK 3.6.7 cannot be: segmented palettes ("not yet supported") and
// uncompressed YBR_FULL, which DCMTK converts with integer arithmetic (off
// by up to 2 from the PS3.3 C.7.6.3.1.2 equations that pydicom and
// Orthanc's decoders follow). Without it those tests are skipped, saying so.
const PYTHON = '/usr/bin/python3';
let havePydicom = false;
try {
  execFileSync(PYTHON, ['-c', 'import pydicom, numpy'], { stdio: 'ignore' });
  havePydicom = true;
} catch { /* skipped below */ }
const NO_PYDICOM = havePydicom ? false : 'python3-pydicom / python3-numpy not installed (apt-get install python3-pydicom)';

before(async () => {
  orthanc = await startOrthanc();
  for (const [k, f] of Object.entries(FILES)) {
    const r = await uploadFile(orthanc, path.join(testData, f));
    assert.equal(r.status, 200, `${f}: ${r.text}`);
    ids[k] = r.json.ID;
  }
  await waitIngestIdle(orthanc);
});
after(async () => { await orthanc?.stop(); fs.rmSync(tmp, { recursive: true, force: true }); });

async function pngBytes(p) {
  return httpRequest(`${orthanc.baseUrl}${p}`, { headers: orthanc.authHeaders() });
}

let refCount = 0;
/** DCMTK's rendering of `file` with `args`; `tool` dcm2pnm, or dcmj2pnm /
 *  dcml2pnm (the same program with the JPEG / JPEG-LS decoders) for
 *  compressed files. 8-bit grey or 24-bit RGB, not interlaced. */
function dcmtk(file, args = [], tool = 'dcm2pnm') {
  const out = path.join(tmp, `ref-${refCount++}.png`);
  execFileSync(tool, ['--write-png', '--nointerlace', ...args, path.join(testData, file), out]);
  return decodePng(fs.readFileSync(out));
}

function dcm2pnm(file, center, width) {
  return dcmtk(file, ['+Ww', String(center), String(width)]);
}

// mode "palette": apply_color_lut, 16-bit entries scaled to 0..255 rounded;
// mode "ybr": convert_color_space to RGB. Writes "w h channels\n" + pixels.
const PYDICOM_REF = `
import sys, numpy as np, pydicom
from pydicom.pixel_data_handlers.util import apply_color_lut, convert_color_space
ds = pydicom.dcmread(sys.argv[1])
arr = ds.pixel_array
if sys.argv[2] == 'palette':
    rgb = apply_color_lut(arr, ds)
    if rgb.dtype == np.uint16:
        rgb = np.floor(rgb.astype(np.float64) * 255.0 / 65535.0 + 0.5)
else:
    rgb = convert_color_space(arr, ds.PhotometricInterpretation, 'RGB')
out = np.ascontiguousarray(rgb.astype(np.uint8))
sys.stdout.buffer.write(b'%d %d %d\\n' % (out.shape[1], out.shape[0], out.shape[2]) + out.tobytes())
`;

function pydicomRef(file, mode) {
  const buf = execFileSync(PYTHON, ['-c', PYDICOM_REF, path.join(testData, file), mode], { maxBuffer: 64 << 20 });
  const nl = buf.indexOf(10);
  const [width, height, channels] = buf.subarray(0, nl).toString().split(' ').map(Number);
  return { width, height, channels, pixels: buf.subarray(nl + 1) };
}

/** Per-channel absolute differences: max, mean, 99th percentile. */
function diffStats(a, b) {
  assert.equal(a.width, b.width, 'width');
  assert.equal(a.height, b.height, 'height');
  assert.equal(a.channels, b.channels, 'channels');
  assert.equal(a.pixels.length, b.pixels.length);
  const hist = new Array(256).fill(0);
  let sum = 0;
  for (let i = 0; i < a.pixels.length; i++) {
    const d = Math.abs(a.pixels[i] - b.pixels[i]);
    hist[d]++;
    sum += d;
  }
  let max = 0;
  for (let d = 0; d < 256; d++) if (hist[d]) max = d;
  let p99 = 0;
  for (let d = 0, seen = 0; d < 256; d++) {
    seen += hist[d];
    if (seen >= 0.99 * a.pixels.length) { p99 = d; break; }
  }
  return { max, mean: sum / a.pixels.length, p99 };
}

function maxDiff(a, b) {
  return diffStats(a, b).max;
}

/** Our PNG of frame `frame` of `key` with query `q` (size=2048: no downscaling). */
async function ours(key, q = '', frame = 0) {
  const r = await pngBytes(`/api/dicom/instances/${ids[key]}/frames/${frame}/png?size=2048${q ? '&' + q : ''}`);
  assert.equal(r.status, 200, `${FILES[key]} frame ${frame} ${q}: ${r.status} ${r.body.toString().slice(0, 300)}`);
  return decodePng(r.body);
}

function assertWithinOne(got, ref, what) {
  const d = diffStats(got, ref);
  assert.ok(d.max <= 1, `${what}: max difference ${d.max} grey levels (mean ${d.mean.toFixed(3)}, p99 ${d.p99})`);
}

for (const [name, center, width] of [['ct', 40, 400], ['ct', -600, 1500], ['cr', 512, 1024], ['signed', 40, 400]]) {
  test(`${name} with window ${center}/${width} matches dcm2pnm within one grey level`, async () => {
    const r = await pngBytes(`/api/dicom/instances/${ids[name]}/frames/0/png?window=${center},${width}&size=2048`);
    assert.equal(r.status, 200, r.body.toString().slice(0, 200));
    const ours = decodePng(r.body);
    const ref = dcm2pnm(FILES[name], center, width);
    const d = maxDiff(ours, ref);
    assert.ok(d <= 1, `max difference ${d} grey levels`);
  });
}

test('lossless transfer syntaxes of one image give identical PNGs', async () => {
  const pngs = [];
  for (const k of ['ct', 'ctImplicit', 'ctRle', 'ctJpegLs']) {
    const r = await pngBytes(`/api/dicom/instances/${ids[k]}/frames/0/png?preset=lung`);
    assert.equal(r.status, 200, `${k}: ${r.body.toString().slice(0, 200)}`);
    pngs.push(r.body);
  }
  for (let i = 1; i < pngs.length; i++) assert.ok(pngs[i].equals(pngs[0]), `syntax ${i} differs`);
});

test('size bounds the longest side; the study route gives the n-th image', async () => {
  const small = decodePng((await pngBytes(`/api/dicom/instances/${ids.ct}/frames/0/png?size=128`)).body);
  assert.equal(Math.max(small.width, small.height), 128);
  const def = decodePng((await pngBytes(`/api/dicom/instances/${ids.cr}/frames/0/png`)).body);
  assert.ok(Math.max(def.width, def.height) <= 1024);
  const study = (await orthanc.json('/api/dicom/studies?limit=100')).data.find((s) => s.instanceCount === 1 && s.modalities.includes('CR'));
  const r = await pngBytes(`/api/dicom/studies/${study.studyInstanceUid}/frames/0?size=256`);
  assert.equal(r.status, 200);
  assert.equal((await pngBytes(`/api/dicom/studies/${study.studyInstanceUid}/frames/1`)).status, 404);
});

test('bad requests get clear errors', async () => {
  for (const [p, status] of [
    [`/api/dicom/instances/${ids.ct}/frames/0/png?window=abc`, 400],
    [`/api/dicom/instances/${ids.ct}/frames/0/png?window=40,0`, 400],
    [`/api/dicom/instances/${ids.ct}/frames/0/png?preset=liver`, 400],
    [`/api/dicom/instances/${ids.ct}/frames/0/png?size=5000`, 400],
    [`/api/dicom/instances/${ids.ct}/frames/0/png?bogus=1`, 400],
    [`/api/dicom/instances/${ids.ct}/frames/7/png`, 404],
    ['/api/dicom/instances/ffffffff-ffffffff-ffffffff-ffffffff-ffffffff/frames/0/png', 404],
  ]) {
    const r = await orthanc.api(p);
    assert.equal(r.status, status, `${p}: ${r.status} ${r.text.slice(0, 200)}`);
  }
  assert.equal((await orthanc.api('/system')).status, 200);
});

// ---------------------------------------------------------------- palette_lut_overlay

test('PALETTE COLOR with 8-bit and 16-bit tables matches dcm2pnm', async () => {
  for (const key of ['palFace', 'palOb', 'tpPalette', 'tpPalette16']) {
    const got = await ours(key);
    assert.equal(got.channels, 3, key);
    assertWithinOne(got, dcmtk(FILES[key]), FILES[key]);
  }
});

// dcm2pnm refuses segmented palettes ("segmented palettes not yet
// supported"): pydicom's apply_color_lut expands them (PS3.3 C.7.9.2).
// Orthanc decodes this 16-bit palette image to RGB48, which the renderer
// scales to 8 bits (it used to answer 415 twice: for the segmented tables,
// then for the RGB48 pixel format).
test('segmented 16-bit PALETTE COLOR (gdcm-US-ALOKA-16) matches pydicom', { skip: NO_PYDICOM }, async () => {
  const got = await ours('palAloka');
  assertWithinOne(got, pydicomRef(FILES.palAloka, 'palette'), FILES.palAloka);
});

test('Modality LUT Sequence (mlut_18) matches dcm2pnm, min/max and explicit window', async () => {
  // no window in the file: ours is the modality values' min/max (LINEAR_EXACT), as +Wm
  assertWithinOne(await ours('mlut'), dcmtk(FILES.mlut, ['+Wm']), 'min/max');
  // a window in the LUT's output units: wrong without the LUT (max difference 255)
  assertWithinOne(await ours('mlut', 'window=30000,40000'), dcmtk(FILES.mlut, ['+Ww', '30000', '40000']), 'window');
});

test("VOI LUT Sequence (vlut_04) is the file's VOI, as dcm2pnm +Wl 1", async () => {
  assertWithinOne(await ours('vlut'), dcmtk(FILES.vlut, ['+Wl', '1']), FILES.vlut);
});

// Overlay planes (group 6000) are not burnt into the PNG (a viewer draws
// them), so the reference leaves them out too.
test("first of two file windows (MR with overlays) matches dcm2pnm +Wi 1 --no-overlays", async () => {
  assertWithinOne(await ours('mrOverlay'), dcmtk(FILES.mrOverlay, ['+Wi', '1', '--no-overlays']), FILES.mrOverlay);
});

// A Parametric Map holds 32-bit float values (Float Pixel Data), not a
// displayable image: Orthanc 1.10.1 has no decoder for it, and the route
// says so with 415 rather than rendering something arbitrary.
test('a float Parametric Map gets a clear 415', async () => {
  const r = await orthanc.api(`/api/dicom/instances/${ids.paramMap}/frames/0/png`);
  assert.equal(r.status, 415, r.text);
  assert.equal(r.json?.error?.code, 'unsupported');
  assert.match(r.json.error.message, /cannot decode/);
});

// ---------------------------------------------------------------- color_testpatterns, color_rgb_ybr

test('lossless colour (JPEG-LS, JPEG lossless RGB, near-lossless JPEG-LS, 16-bit RGB) matches DCMTK', async () => {
  for (const [key, tool] of [['tpJlsLossless', 'dcml2pnm'], ['tpJlsNear', 'dcml2pnm'], ['tpJpegLossless', 'dcmj2pnm'], ['scRgb16', 'dcm2pnm']]) {
    const got = await ours(key);
    assert.equal(got.channels, 3, key);
    assertWithinOne(got, dcmtk(FILES[key], [], tool), FILES[key]);
  }
});

// Lossy JPEG baseline: the YCbCr -> RGB conversion and chroma upsampling are
// the decoder's (Orthanc's libjpeg vs DCMTK's IJG copy), which need not agree
// to ±1; a small mean difference says the colour space and the sampling are
// right (today both files agree within 1).
test('JPEG baseline YBR_FULL and YBR_FULL_422 match dcmj2pnm closely', async () => {
  for (const key of ['tpYbrFull', 'tpYbr422']) {
    const d = diffStats(await ours(key), dcmtk(FILES[key], [], 'dcmj2pnm'));
    assert.ok(d.mean < 2 && d.p99 <= 4, `${FILES[key]}: mean ${d.mean.toFixed(3)}, p99 ${d.p99}, max ${d.max}`);
  }
});

test('uncompressed YBR_FULL and YBR_FULL_422 match pydicom', { skip: NO_PYDICOM }, async () => {
  for (const key of ['scYbrFull', 'scYbr422']) {
    assertWithinOne(await ours(key), pydicomRef(FILES[key], 'ybr'), FILES[key]);
  }
});

// ---------------------------------------------------------------- enhanced_mr

test('enhanced MR frames 0 and 5: five transfer syntaxes give identical PNGs that match dcm2pnm --frame', async () => {
  const keys = ['emri', 'emriRle', 'emriBe', 'emriJ2k', 'emriJls'];
  const first = {};
  for (const frame of [0, 5]) {
    for (const q of ['', 'window=600,1200']) {
      const pngs = [];
      for (const k of keys) {
        const r = await pngBytes(`/api/dicom/instances/${ids[k]}/frames/${frame}/png?size=2048${q ? '&' + q : ''}`);
        assert.equal(r.status, 200, `${k} frame ${frame}: ${r.body.toString().slice(0, 200)}`);
        pngs.push(r.body);
      }
      for (let i = 1; i < pngs.length; i++) assert.ok(pngs[i].equals(pngs[0]), `${keys[i]} frame ${frame} ${q} differs from ${keys[0]}`);
      const got = decodePng(pngs[0]);
      assert.equal(got.width, 64);
      // dcm2pnm counts frames from 1; no window in the file: min/max of the frame
      const ref = dcmtk(FILES.emri, ['+F', String(frame + 1), ...(q ? ['+Ww', '600', '1200'] : ['+Wm'])]);
      assertWithinOne(got, ref, `frame ${frame} ${q || 'min/max'}`);
      if (q) first[frame] = got;
    }
  }
  assert.ok(maxDiff(first[0], first[5]) > 10, 'frames 0 and 5 are different images');
});
