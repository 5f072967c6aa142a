// GET /api/dicom/studies/{uid}/series/{uid}/volume against a real Orthanc with the plugin (issue 11: which series
// can be reconstructed, and how). Real series of ../shared/dicom — the 134-slice CT (axial, reconstructable, spacing
// from its positions), the brain MR (24 slices, oblique), the enhanced CT (2 frames, geometry from its functional
// groups) and the enhanced MR as shipped (no functional groups: no geometry) — and series made in the test with
// pydicom from the CT and the enhanced MR (Tests/lib/make-volume-series.py, new UIDs): a gantry tilt shown by the tag
// and the positions, by the positions only, and as GE writes it (tilted orientation, positions along the table),
// each correctable — the corrected geometry puts every slice where its Image Position (Patient) says; a missing
// slice, irregular spacing, a duplicate position and two frames of reference, each refused with its reason; the
// enhanced MR with functional groups (shared defaults, frames out of order) as a sagittal volume with true axial
// and coronal labels. Then the role matrix and the audit trail.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tempDir } from '../lib/dicom.mjs';
import { dcmdumpTags, dicomFilesOf, execFile, httpRequest, repoRoot, startOrthanc, storescu, testData, waitFor } from '../lib/orthanc.mjs';

const PASSWORD = 'Correct-Horse-Battery-9';
const close = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} is not ${b} ± ${tol}`);

describe('volume API', { timeout: 180_000 }, () => {
  let orthanc;
  let made;
  const real = {};
  const tokens = {};
  const volumeOf = (study, series) =>
    `/api/dicom/studies/${encodeURIComponent(study)}/series/${encodeURIComponent(series)}/volume`;
  const volume = async (study, series) => {
    const r = await orthanc.api(volumeOf(study, series));
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  const madeVolume = (name) => volume(made.study, made.series[name]);

  before(async () => {
    const dir = await tempDir('rr-volume-');
    const { stdout } = await execFile('/usr/bin/python3', [path.join(repoRoot, 'Tests/lib/make-volume-series.py'), dir,
      path.join(testData, 'ct_abdomen_pancreas_134'), path.join(testData, 'enhanced_mr/emri_small.dcm')],
    { maxBuffer: 1 << 24 });
    made = JSON.parse(stdout);
    const files = {
      ct: await dicomFilesOf('ct_abdomen_pancreas_134'),
      mr: await dicomFilesOf('mr_brain_t1post_24'),
      ect: [path.join(testData, 'enhanced_ct/eCT_Supplemental.dcm')],
      emr: [path.join(testData, 'enhanced_mr/emri_small.dcm')],
    };
    for (const [k, f] of Object.entries(files)) {
      const t = await dcmdumpTags(f[0], ['StudyInstanceUID', 'SeriesInstanceUID']);
      real[k] = { study: t.StudyInstanceUID, series: t.SeriesInstanceUID, files: f };
    }
    orthanc = await startOrthanc();
    const all = [...Object.values(files).flat(), ...Object.values(made.files).flat()];
    await storescu(orthanc, all);
    await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=50');
      return l.data.reduce((n, s) => n + s.instanceCount, 0) === all.length;
    }, 60_000, 200, 'every file ingested');
    for (const [role, name] of [['radiologist', 'rad'], ['technician', 'tech'], ['physician', 'doc']]) {
      await orthanc.createUser({ username: name, password: PASSWORD, role, displayName: `Test ${role}` });
      const l = await orthanc.login(name, PASSWORD);
      assert.equal(l.status, 200, `login ${name}: ${l.text}`);
      tokens[role] = l.token;
    }
  });
  after(async () => { await orthanc?.stop(); });

  it('the 134-slice CT: reconstructable, axial, its spacing from the data, slices along the normal', async () => {
    const v = await volume(real.ct.study, real.ct.series);
    assert.equal(v.reconstructable, true, JSON.stringify(v.reasons));
    assert.deepEqual(v.reasons, []);
    assert.equal(v.plane, 'axial');
    // the expected geometry from the files themselves (dcmdump), not from the plugin
    const tags = await Promise.all(real.ct.files.map((f) => dcmdumpTags(f, ['ImagePositionPatient', 'PixelSpacing'])));
    const z = tags.map((t) => Number(t.ImagePositionPatient.split('\\')[2])).sort((a, b) => a - b);
    const [rowSpacing, colSpacing] = tags[0].PixelSpacing.split('\\').map(Number);
    const g = v.geometry;
    close(g.spacing[0], colSpacing, 1e-9, 'spacing x');
    close(g.spacing[1], rowSpacing, 1e-9, 'spacing y');
    close(g.spacing[2], (z.at(-1) - z[0]) / (z.length - 1), 1e-6, 'spacing z');
    close(g.spacing[2], 3, 1e-6, 'spacing z is 3 mm');
    close(g.origin[2], z[0], 1e-6, 'origin at the lowest slice');
    assert.deepEqual(g.dimensions, [512, 512, 134]);
    assert.deepEqual(g.normal, [0, 0, 1]);
    assert.equal(v.bytes.int16, 512 * 512 * 134 * 2);
    assert.equal(v.bytes.float32, 512 * 512 * 134 * 4);
    assert.equal(v.tilt.tilted, false);
    assert.equal(v.tilt.fromTag, 0, 'the CT says GantryDetectorTilt 0');
    assert.equal(v.tilt.correction, null);
    assert.equal(v.slices.length, 134);
    const study = await orthanc.json(`/api/dicom/studies/${real.ct.study}`);
    const order = study.series[0].instances.map((i) => i.orthancId);
    assert.deepEqual(v.slices.map((s) => s.instanceId), order, 'the display order');
    assert.ok(v.slices.every((s) => s.frame === 0));
    assert.deepEqual(v.planes.axial.labels, { left: 'R', right: 'L', top: 'A', bottom: 'P' });
    assert.deepEqual(v.planes.sagittal.labels, { left: 'A', right: 'P', top: 'H', bottom: 'F' });
    assert.deepEqual(v.planes.coronal.labels, { left: 'R', right: 'L', top: 'H', bottom: 'F' });
  });

  it('the brain MR: oblique (about 10° from axial), reconstructable, labels of the volume-aligned planes', async () => {
    const v = await volume(real.mr.study, real.mr.series);
    assert.equal(v.reconstructable, true, JSON.stringify(v.reasons));
    assert.equal(v.plane, 'oblique');
    assert.equal(v.nearestPlane, 'axial');
    assert.ok(v.obliqueDegrees > 5 && v.obliqueDegrees < 15, `${v.obliqueDegrees}°`);
    close(v.geometry.spacing[2], 6.5, 0.01, 'SpacingBetweenSlices 6.5');
    assert.deepEqual(v.geometry.dimensions, [260, 320, 24]);
    assert.equal(v.tilt.tilted, false, 'oblique, not sheared');
    assert.equal(v.planes.axial.axis, 'normal');
    assert.equal(v.planes.axial.labels.top[0], 'A');
    assert.equal(v.planes.axial.labels.right[0], 'L');
    assert.ok(v.planes.axial.labels.bottom.length > 1, 'oblique: more than one letter');
  });

  it('the enhanced CT: geometry from its functional groups, refused for having 2 frames', async () => {
    const v = await volume(real.ect.study, real.ect.series);
    assert.equal(v.reconstructable, false);
    assert.deepEqual(v.reasons, ['fewer than 3 slices (2)']);
    close(v.geometry.spacing[0], 0.388672, 1e-9, 'shared Pixel Measures');
    close(v.geometry.spacing[2], 10, 1e-9, 'per-frame Plane Positions');
    assert.deepEqual(v.geometry.rowCosines, [-1, 0, 0], 'shared Plane Orientation');
    assert.deepEqual(v.slices.map((s) => s.frame), [1, 0], 'along the normal (0, 0, -1): -149 before -159');
  });

  it('the enhanced MR as shipped has no functional groups: no geometry, refused', async () => {
    const v = await volume(real.emr.study, real.emr.series);
    assert.equal(v.reconstructable, false);
    assert.deepEqual(v.reasons, ['10 slices without a position or orientation']);
    assert.equal(v.geometry, null);
    assert.equal(v.plane, null);
    assert.equal(v.tilt.fromPositions, null);
    assert.equal(v.tilt.uniform, null);
  });

  it('the enhanced MR with functional groups: a sagittal volume, frames ordered, true axial and coronal labels', async () => {
    const v = await madeVolume('enhanced-mr');
    assert.equal(v.reconstructable, true, JSON.stringify(v.reasons));
    assert.equal(v.plane, 'sagittal');
    assert.deepEqual(v.geometry.spacing.slice(0, 2), [4, 4], 'shared Pixel Measures');
    close(v.geometry.spacing[2], 1.2, 1e-9, 'spacing along the normal');
    assert.deepEqual(v.geometry.dimensions, [64, 64, 10]);
    const expected = made.enhancedOrder.map((slot, frame) => [slot, frame]).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
    assert.deepEqual(v.slices.map((s) => s.frame), expected);
    assert.deepEqual(v.planes.sagittal.labels, { left: 'A', right: 'P', top: 'H', bottom: 'F' });
    assert.deepEqual(v.planes.axial.labels, { left: 'R', right: 'L', top: 'A', bottom: 'P' });
    assert.deepEqual(v.planes.coronal.labels, { left: 'R', right: 'L', top: 'H', bottom: 'F' });
  });

  /** Every slice's Image Position (Patient) is where the corrected volume puts its first pixel. */
  async function assertNotSheared(v) {
    const g = v.geometry;
    const c = v.tilt.correction;
    for (const [k, s] of v.slices.entries()) {
      const t = await orthanc.json(`/instances/${s.instanceId}/simplified-tags`);
      const ipp = t.ImagePositionPatient.split('\\').map(Number);
      const i = k * c.columnsPerSlice + c.columnsOffset;
      const j = k * c.rowsPerSlice + c.rowsOffset;
      const world = [0, 1, 2].map((a) => g.origin[a] + i * g.spacing[0] * g.rowCosines[a] + j * g.spacing[1] * g.columnCosines[a] +
        k * g.spacing[2] * g.normal[a]);
      for (let a = 0; a < 3; a++) close(world[a], ipp[a], 0.01, `slice ${k} axis ${a}`);
    }
  }

  for (const [name, fromTag] of [['tilt-tag', 15], ['tilt-positions', null], ['tilt-oblique', 15]]) {
    it(`a tilted CT (${name}) is detected and correctable: ${made?.tiltDegrees ?? 15}°, never a sheared volume`, async () => {
      const v = await madeVolume(name);
      assert.equal(v.reconstructable, true, JSON.stringify(v.reasons));
      assert.equal(v.tilt.tilted, true);
      assert.equal(v.tilt.uniform, true);
      assert.equal(v.tilt.correctable, true);
      assert.equal(v.tilt.fromTag, fromTag);
      close(v.tilt.fromPositions, made.tiltDegrees, 1e-3, 'the angle from the positions');
      close(v.tilt.degrees, made.tiltDegrees, 1e-3, 'degrees');
      assert.ok(Math.abs(v.tilt.correction.rowsPerSlice) > 0.5, 'a shift along the columns, in pixels');
      close(v.tilt.correction.columnsPerSlice, 0, 1e-6, 'none along the rows');
      const pixelsPerSlice = (3 * Math.tan(made.tiltDegrees * Math.PI / 180)) / made.ctPixelSpacing[0];
      if (name !== 'tilt-oblique') {
        close(v.tilt.correction.rowsPerSlice, pixelsPerSlice, 1e-3, 'tan(tilt) × 3 mm / pixel spacing');
        close(v.geometry.spacing[2], 3, 1e-6, 'spacing along the normal');
      } else {
        close(v.geometry.spacing[2], 3 * Math.cos(made.tiltDegrees * Math.PI / 180), 1e-6, 'spacing along the tilted normal');
      }
      assert.equal(v.geometry.dimensions[1], 512 + Math.ceil(Math.abs(v.tilt.correction.rowsPerSlice) * 15 - 1e-6), 'widened');
      await assertNotSheared(v);
    });
  }

  for (const [name, reason] of [
    ['missing', '3 slices missing'],
    ['irregular', 'slice spacing varies between 1.0 and 5.0 mm'],
    ['duplicate', 'two slices at the same position'],
    ['two-for', '2 frames of reference'],
  ]) {
    it(`a series with ${name} is refused: "${reason}"`, async () => {
      const v = await madeVolume(name);
      assert.equal(v.reconstructable, false);
      assert.deepEqual(v.reasons, [reason]);
    });
  }

  // GET /api/dicom/instances/{id}/frames/{n}/values: what the viewer fills its volumes from, checked against Orthanc's
  // own decoding and rescale (GET /instances/{id}/frames/{n}/numpy?rescale=true: another code path, .npy float)
  const npy = (buf) => {
    assert.equal(buf.subarray(1, 6).toString('latin1'), 'NUMPY', 'a .npy answer');
    const headerLength = buf.readUInt16LE(8);
    const header = buf.subarray(10, 10 + headerLength).toString('latin1');
    const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
    const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((x) => x.trim()).filter(Boolean).map(Number);
    const body = buf.subarray(10 + headerLength);
    const ab = body.buffer.slice(body.byteOffset, body.byteOffset + body.length);
    const arr = descr === '<f4' ? new Float32Array(ab) : descr === '<f8' ? new Float64Array(ab) : descr === '<i2' ? new Int16Array(ab) : descr === '<u2' ? new Uint16Array(ab) : new Uint8Array(ab);
    return { descr, shape, arr };
  };
  const valuesOf = async (instanceId, frame, headers) => {
    const url = `${orthanc.baseUrl}/api/dicom/instances/${instanceId}/frames/${frame}/values`;
    return fetch(url, { headers: headers ?? orthanc.authHeaders() });
  };
  // rescale: {slope, intercept} applied here to Orthanc's stored values, for an enhanced object whose rescale sits
  // in its functional groups (Orthanc's ?rescale reads the top-level tags only)
  const checkValues = async (instanceId, frame, rescale = null) => {
    const r = await valuesOf(instanceId, frame);
    assert.equal(r.status, 200, await r.clone().text());
    const type = r.headers.get('x-rr-values');
    const columns = Number(r.headers.get('x-rr-columns'));
    const rows = Number(r.headers.get('x-rr-rows'));
    const body = await r.arrayBuffer();
    const ours = type === 'int16' ? new Int16Array(body) : new Float32Array(body);
    assert.equal(ours.length, columns * rows, 'columns × rows values');
    const ref = await httpRequest(`${orthanc.baseUrl}/instances/${instanceId}/frames/${frame}/numpy${rescale ? '' : '?rescale=true'}`, { headers: orthanc.authHeaders() });
    assert.equal(ref.status, 200, ref.body.toString('utf8').slice(0, 300));
    const theirs = npy(ref.body);
    if (rescale) theirs.arr = Float64Array.from(theirs.arr, (x) => x * rescale.slope + rescale.intercept);
    assert.equal(theirs.arr.length, ours.length, `Orthanc's shape ${theirs.shape}`);
    let worst = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < ours.length; i++) {
      worst = Math.max(worst, Math.abs(ours[i] - theirs.arr[i]));
      min = Math.min(min, ours[i]);
      max = Math.max(max, ours[i]);
    }
    assert.ok(worst <= 1e-3, `largest difference from Orthanc's rescaled pixels: ${worst} (${instanceId}/${frame} ${theirs.descr}, first values ours ${ours.slice(0, 3)} theirs ${theirs.arr.slice(0, 3)})`);
    const [rmin, rmax] = r.headers.get('x-rr-range').split(' ').map(Number);
    close(rmin, min, 1e-6, 'range min');
    close(rmax, max, 1e-6, 'range max');
    return { type, columns, rows, headers: r.headers, min, max };
  };

  it('serves a frame\'s modality values, equal to Orthanc\'s own rescaled pixels (CT: int16 HU with the file\'s window)', async () => {
    const v = await volume(real.ct.study, real.ct.series);
    const middle = v.slices[Math.floor(v.slices.length / 2)];
    const got = await checkValues(middle.instanceId, middle.frame);
    assert.equal(got.type, 'int16');
    assert.deepEqual([got.columns, got.rows], [512, 512]);
    assert.ok(got.min < -900 && got.max > 200, `HU values: ${got.min}..${got.max}`);
    assert.match(got.headers.get('x-rr-window') ?? '', /^-?[\d.]+ [\d.]+$/, 'the file\'s window');
    // an enhanced multi-frame CT: its last frame, the rescale from its functional groups (dcmdump: -1024, 1)
    const e = await volume(real.ect.study, real.ect.series);
    const fg = await execFile('dcmdump', ['+P', '0028,1052', '+P', '0028,1053', real.ect.files[0]]);
    const intercept = Number(/\(0028,1052\) DS \[([^\]]+)\]/.exec(fg.stdout)[1]);
    const slope = Number(/\(0028,1053\) DS \[([^\]]+)\]/.exec(fg.stdout)[1]);
    assert.equal(intercept, -1024);
    const last = await checkValues(e.slices.at(-1).instanceId, e.slices.at(-1).frame, { slope, intercept });
    assert.equal(last.type, 'int16');
  });

  it('refuses the values of a frame that does not exist, of an unknown instance, and to roles without images', async () => {
    const v = await volume(real.ct.study, real.ct.series);
    const id = v.slices[0].instanceId;
    assert.equal((await valuesOf(id, 5)).status, 404, 'frame 5 of a single-frame CT');
    assert.equal((await valuesOf('0123abcd-0123abcd-0123abcd-0123abcd-0123abcd', 0)).status, 404);
    assert.equal((await valuesOf('not-an-id!', 0)).status, 400);
    const as = (role) => valuesOf(id, 0, { Authorization: `Bearer ${tokens[role]}` });
    assert.equal((await as('radiologist')).status, 200);
    assert.equal((await as('technician')).status, 403);
    assert.equal((await as('physician')).status, 403, 'no final report: the study check refuses');
  });

  it('answers 404 for an unknown study or series, 400 for a malformed UID, 405 for another method', async () => {
    const unknown = await orthanc.api(volumeOf('1.2.3.4.5.6.7.8.9', real.ct.series));
    assert.equal(unknown.status, 404, unknown.text);
    const otherSeries = await orthanc.api(volumeOf(real.ct.study, real.mr.series));
    assert.equal(otherSeries.status, 404, otherSeries.text);
    assert.match(otherSeries.json.error.message, /no such series/);
    const bad = await orthanc.api(volumeOf(real.ct.study, '1.2;drop'));
    assert.equal(bad.status, 400, bad.text);
    const post = await orthanc.api(volumeOf(real.ct.study, real.ct.series), { method: 'POST', body: '{}' });
    assert.ok(post.status === 405 || post.status === 403, `POST refused (${post.status})`);
  });

  it('follows the role matrix and is audited as an access to the study', async () => {
    const as = (role) => orthanc.api(volumeOf(real.mr.study, real.mr.series), { headers: { Authorization: `Bearer ${tokens[role]}` } });
    assert.equal((await as('radiologist')).status, 200);
    assert.equal((await as('technician')).status, 403);
    assert.equal((await as('physician')).status, 403, 'no final report: the study check refuses');
    assert.equal((await orthanc.api(volumeOf(real.mr.study, real.mr.series), { auth: false })).status, 403, 'anonymous');
    await waitFor(async () => {
      const r = await orthanc.json(`/api/audit?resource=${encodeURIComponent(real.mr.study)}&limit=100`);
      return (r.data ?? []).some((a) => a.username === 'rad' && a.action === 'study.access');
    }, 10_000, 200, 'an audit record of the volume read');
  });
});
