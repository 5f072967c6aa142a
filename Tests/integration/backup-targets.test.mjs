// The backup targets' real libcurl code (Plugin/backup/backup_s3.c, backup_cloudinary.c, driven by
// build/Tests/unit/rr_backup_target_tool) against the stand-ins of Tests/lib, which verify every
// signature with their own node:crypto implementation: S3 path-style and virtual-host (SigV4,
// ListObjectsV2 pages with continuation tokens, a key prefix), Cloudinary with SHA-1 and SHA-256
// signatures (signed upload, Admin API list/lookup with basic auth, signed download, a folder).
// Real DICOM files are sealed (AES-256-GCM, the object key as aad), stored, listed, fetched and
// unsealed byte for byte; the stored envelope is opened here independently with node:crypto; a
// wrong secret is refused with the service's own error in the sentence and without the secret; an
// injected 503 is reported; an object swapped for another or altered does not unseal.
// No Orthanc is needed: verified only against the stand-ins (see README "Backup").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { pluginPath, testData } from '../lib/orthanc.mjs';
import { startS3Standin } from '../lib/s3-standin.mjs';
import { startCloudinaryStandin } from '../lib/cloudinary-standin.mjs';

const TOOL = path.join(path.dirname(pluginPath), 'Tests', 'unit', 'rr_backup_target_tool');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-backup-targets-'));
const KEY = crypto.randomBytes(32);
const KEYFILE = path.join(tmp, 'backup.key');
const CT = path.join(testData, 'ct_chest_lung_30');
const files = fs.readdirSync(CT).filter((f) => f.endsWith('.dcm')).sort().slice(0, 3).map((f) => path.join(CT, f));
const STUDY = '1.2.826.0.1.3680043.8.498.1';
const keys = files.map((_, i) => `studies/${STUDY}/1.2.826.0.1.3680043.8.498.1.${i + 1}.rrb`);

/** Run the tool (asynchronously: the stand-in answers in this process). */
function tool(env, ...args) {
  return new Promise((resolve) => {
    execFile(TOOL, args, { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60000 }, (e, stdout, stderr) =>
      resolve({ code: e ? e.code : 0, stdout, stderr }));
  });
}

/** Open an RRB1 envelope with node:crypto (an implementation independent of backup_crypto.c). */
function openEnvelope(buf, aad) {
  assert.equal(buf.subarray(0, 4).toString(), 'RRB1');
  const nonce = buf.subarray(4, 16);
  const tag = buf.subarray(buf.length - 16);
  const d = crypto.createDecipheriv('aes-256-gcm', KEY, nonce);
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(buf.subarray(16, buf.length - 16)), d.final()]);
}

before(() => {
  fs.writeFileSync(KEYFILE, KEY, { mode: 0o600 });
  assert.ok(files.length === 3, `three DICOM files in ${CT}`);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The same scenario for every target: `storedKey` maps an object key to the stand-in's key. */
async function scenario(t, env, standin, storedKey, wrongSecretEnv, expectRefusal) {
  for (let i = 0; i < files.length; i++) {
    const r = await tool(env, 'seal-put', KEYFILE, keys[i], files[i]);
    assert.equal(r.code, 0, r.stderr);
  }
  const day = `days/2026-12-04/${STUDY}`;
  fs.writeFileSync(path.join(tmp, 'empty'), '');
  assert.equal((await tool(env, 'put', day, path.join(tmp, 'empty'))).code, 0);

  const stored = standin.objects();
  for (let i = 0; i < files.length; i++) {
    const obj = stored.get(storedKey(keys[i]));
    assert.ok(obj, `${storedKey(keys[i])} stored`);
    assert.ok(!obj.includes(fs.readFileSync(files[i]).subarray(128, 160)), 'no clear DICOM bytes leave');
    assert.deepEqual(openEnvelope(obj, keys[i]), fs.readFileSync(files[i]), 'node:crypto opens the envelope');
  }
  assert.equal(stored.get(storedKey(day)).length, 0);

  let r = await tool(env, 'exists', keys[1]);
  assert.deepEqual([r.code, r.stdout], [0, 'yes\n']);
  r = await tool(env, 'exists', `studies/${STUDY}/9.9.rrb`);
  assert.deepEqual([r.code, r.stdout], [0, 'no\n']);

  r = await tool(env, 'list', '');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [day, ...keys].sort());
  r = await tool(env, 'list', 'studies/');
  assert.deepEqual(r.stdout.trim().split('\n'), [...keys].sort());
  r = await tool(env, 'list', 'nothing/');
  assert.deepEqual([r.code, r.stdout], [0, '']);

  for (let i = 0; i < files.length; i++) {
    const out = path.join(tmp, `back-${i}.dcm`);
    r = await tool(env, 'get-unseal', KEYFILE, keys[i], out);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fs.readFileSync(out), fs.readFileSync(files[i]), 'byte for byte');
  }
  r = await tool(env, 'get', `studies/${STUDY}/9.9.rrb`, path.join(tmp, 'x'));
  assert.equal(r.code, 2, r.stderr);

  // an object over 1 MB (libcurl sends it after "Expect: 100-continue"), still signed over its hash
  const big = path.join(tmp, 'big.bin');
  fs.writeFileSync(big, crypto.randomBytes(3 * 1024 * 1024 + 7));
  const bigKey = `studies/${STUDY}/1.2.826.0.1.3680043.8.498.1.99.rrb`;
  r = await tool(env, 'seal-put', KEYFILE, bigKey, big);
  assert.equal(r.code, 0, r.stderr);
  r = await tool(env, 'get-unseal', KEYFILE, bigKey, path.join(tmp, 'big-back.bin'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readFileSync(path.join(tmp, 'big-back.bin')), fs.readFileSync(big));

  // an object swapped for another (the target's own fault or an attacker's) does not unseal
  standin.put(storedKey(keys[0]), stored.get(storedKey(keys[1])));
  r = await tool(env, 'get-unseal', KEYFILE, keys[0], path.join(tmp, 'swapped'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /does not authenticate/);
  const altered = Buffer.from(stored.get(storedKey(keys[2])));
  altered[altered.length - 40] ^= 1;
  standin.put(storedKey(keys[2]), altered);
  r = await tool(env, 'get-unseal', KEYFILE, keys[2], path.join(tmp, 'altered'));
  assert.match(r.stderr, /does not authenticate/);
  assert.ok(!fs.existsSync(path.join(tmp, 'altered')));

  // a wrong secret: refused by the stand-in's signature check, the sentence names the cause
  const before = standin.objects().size;
  r = await tool({ ...env, ...wrongSecretEnv }, 'seal-put', KEYFILE, `studies/${STUDY}/7.7.rrb`, files[0]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, expectRefusal);
  assert.ok(!r.stderr.includes(Object.values(wrongSecretEnv)[0]), 'the secret stays out of the sentence');
  assert.equal(standin.objects().size, before, 'nothing stored');

  // an outage answer is reported with its status; the next request goes through
  standin.failNext(1, 503);
  r = await tool(env, 'exists', keys[1]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /HTTP 503/);
  r = await tool(env, 'exists', keys[1]);
  assert.equal(r.code, 0);
  standin.failNext(1, 500);
  r = await tool(env, 'seal-put', KEYFILE, keys[1], files[1]);
  assert.match(r.stderr, /HTTP 500/);
}

for (const style of ['path', 'virtual-host']) {
  test(`S3 (${style}) against the SigV4-verifying stand-in`, async (t) => {
    const s3 = await startS3Standin({ accessKeyId: 'AKIARRTEST', secretAccessKey: 'rr/test+secret', region: 'eu-west-1', bucket: 'rr-backups', maxKeys: 2 });
    try {
      const env = {
        RR_BT_TARGET: 's3',
        RR_BT_ENDPOINT: style === 'path' ? s3.url : s3.virtualUrl,
        RR_BT_PATH_STYLE: style === 'path' ? '1' : '0',
        RR_BT_REGION: 'eu-west-1',
        RR_BT_BUCKET: 'rr-backups',
        RR_BT_ACCESS_KEY_ID: 'AKIARRTEST',
        RR_BT_SECRET_ENV: 'RR_TEST_S3_SECRET',
        RR_TEST_S3_SECRET: 'rr/test+secret',
        RR_BT_PREFIX: 'node-a/',
        RR_BT_TIMEOUT: '20',
      };
      await scenario(t, env, s3, (k) => `node-a/${k}`, { RR_TEST_S3_SECRET: 'not-the-secret' }, /HTTP 403 \(SignatureDoesNotMatch/);
      assert.ok(s3.requests.some((r) => /continuation-token=/.test(r.path)), 'lists followed a continuation token');
      if (style === 'virtual-host') assert.ok(s3.requests.every((r) => !r.path.startsWith('/rr-backups')));
      // a wrong access key id is its own error
      const r = await tool({ ...env, RR_BT_ACCESS_KEY_ID: 'AKIAWRONG' }, 'list', '');
      assert.match(r.stderr, /InvalidAccessKeyId/);
      // another region than the bucket's
      const r2 = await tool({ ...env, RR_BT_REGION: 'us-east-1' }, 'list', '');
      assert.match(r2.stderr, /HTTP 400 \(AuthorizationHeaderMalformed/);
    } finally {
      await s3.stop();
    }
  });
}

for (const algorithm of ['sha1', 'sha256']) {
  test(`Cloudinary (${algorithm} signatures) against the verifying stand-in`, async (t) => {
    const c = await startCloudinaryStandin({ cloudName: 'rr-demo', apiKey: '874837483274837', apiSecret: 'a676b67565c6767a6767d6767f676fe1', signatureAlgorithm: algorithm, pageSize: 2 });
    try {
      const env = {
        RR_BT_TARGET: 'cloudinary',
        RR_BT_API_BASE: c.url,
        RR_BT_CLOUD: 'rr-demo',
        RR_BT_API_KEY: '874837483274837',
        RR_BT_SECRET: 'a676b67565c6767a6767d6767f676fe1',
        RR_BT_FOLDER: 'reading-room',
        RR_BT_SHA256: algorithm === 'sha256' ? '1' : '0',
        RR_BT_TIMEOUT: '20',
      };
      await scenario(t, env, c, (k) => `reading-room/${k}`, { RR_BT_SECRET: 'wrong-secret-0000' }, /Cloudinary upload answered HTTP 401 \(Invalid Signature/);
      assert.ok(c.requests.some((r) => /next_cursor=/.test(r.path)), 'lists followed next_cursor');
      // the Admin API refuses a wrong secret too
      const r = await tool({ ...env, RR_BT_SECRET: 'wrong-secret-0000' }, 'list', '');
      assert.match(r.stderr, /HTTP 401/);
    } finally {
      await c.stop();
    }
  });
}
