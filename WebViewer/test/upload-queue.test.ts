import { describe, expect, it } from 'vitest';
import { UploadQueue, interpretUpload, skipFile, type SendResult } from '../src/upload-queue';

const file = (n: number): { file: Blob; name: string } => ({ file: new Blob([new Uint8Array(n)]), name: `f${n}.dcm` });

/** A sender whose answers the test releases one by one. */
function manualSender(): { send: ConstructorParameters<typeof UploadQueue>[0]; pending: { resolve(r: SendResult): void; progress(n: number): void; aborted: boolean }[] } {
  const pending: { resolve(r: SendResult): void; progress(n: number): void; aborted: boolean }[] = [];
  return {
    pending,
    send: (_file, onProgress, signal) =>
      new Promise<SendResult>((resolve, reject) => {
        const entry = { resolve, progress: onProgress, aborted: false };
        signal.addEventListener('abort', () => {
          entry.aborted = true;
          reject(new DOMException('Aborted', 'AbortError'));
        });
        pending.push(entry);
      }),
  };
}
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('interpretUpload (answers of POST /instances)', () => {
  it('maps Orthanc answers', () => {
    expect(interpretUpload({ status: 200, body: '{"ID":"a","Status":"Success"}' })).toEqual({ status: 'stored', message: 'Stored' });
    expect(interpretUpload({ status: 200, body: '{"ID":"a","Status":"AlreadyStored"}' })).toEqual({ status: 'duplicate', message: 'Already stored' });
    expect(interpretUpload({ status: 200, body: '[{"Status":"Success"},{"Status":"AlreadyStored"}]' })).toEqual({ status: 'stored', message: 'Stored (2 instances)' });
    expect(interpretUpload({ status: 200, body: '{"Status":"FilteredOut"}' })).toEqual({ status: 'failed', message: 'FilteredOut' });
    expect(interpretUpload({ status: 400, body: '{"HttpError":"Bad Request","Message":"Bad file format"}' })).toEqual({
      status: 'failed',
      message: 'Not a valid DICOM file (Bad file format)',
    });
    expect(interpretUpload({ status: 0, body: '' })).toEqual({ status: 'failed', message: 'Network error' });
    expect(interpretUpload({ status: 500, body: 'oops' })).toEqual({ status: 'failed', message: 'HTTP 500' });
  });

  it('skips hidden files and OS litter', () => {
    expect(skipFile('study/.DS_Store')).toBe(true);
    expect(skipFile('Thumbs.db')).toBe(true);
    expect(skipFile('study/IM0001')).toBe(false);
  });
});

describe('UploadQueue', () => {
  it('sends at most `concurrency` files at once, reports progress and a summary', async () => {
    const { send, pending } = manualSender();
    const q = new UploadQueue(send, { concurrency: 2 });
    expect(q.add([file(10), file(20), file(30), { file: new Blob(['x']), name: '.hidden' }])).toBe(1);
    expect(pending).toHaveLength(2);
    expect(q.items.map((i) => i.status)).toEqual(['uploading', 'uploading', 'queued']);
    pending[0]?.progress(5);
    expect(q.items[0]?.loaded).toBe(5);
    expect(q.summary()).toMatchObject({ total: 3, uploading: 2, queued: 1, bytesTotal: 60, bytesDone: 5 });
    pending[0]?.resolve({ status: 200, body: '{"Status":"Success"}' });
    await tick();
    expect(pending).toHaveLength(3);
    pending[1]?.resolve({ status: 200, body: '{"Status":"AlreadyStored"}' });
    pending[2]?.resolve({ status: 400, body: '{"Message":"Bad file format"}' });
    await tick();
    expect(q.running).toBe(false);
    expect(q.summary()).toMatchObject({ total: 3, stored: 1, duplicate: 1, failed: 1, bytesDone: 60 });

    q.retry();
    expect(pending).toHaveLength(4);
    pending[3]?.resolve({ status: 200, body: '{"Status":"Success"}' });
    await tick();
    expect(q.summary()).toMatchObject({ stored: 2, failed: 0 });
    q.clearFinished();
    expect(q.items).toHaveLength(0);
  });

  it('cancel aborts running uploads and cancels queued ones', async () => {
    const { send, pending } = manualSender();
    const q = new UploadQueue(send, { concurrency: 1 });
    q.add([file(1), file(2)]);
    q.cancel();
    await tick();
    expect(pending[0]?.aborted).toBe(true);
    expect(q.items.map((i) => i.status)).toEqual(['cancelled', 'cancelled']);
    expect(pending).toHaveLength(1);
  });

  it('a 403 with an empty body: the session check decides between "session ended" and "not allowed"', async () => {
    let ended = false;
    const q = new UploadQueue(async () => ({ status: 403, body: '' }), { concurrency: 1, onEmpty403: async () => ended });
    q.add([file(1)]);
    await tick();
    await tick();
    expect(q.items[0]).toMatchObject({ status: 'failed', message: 'Not allowed' });

    ended = true;
    q.add([file(2), file(3)]);
    await tick();
    await tick();
    expect(q.items.slice(1).map((i) => [i.status, i.message])).toEqual([
      ['failed', 'Session ended'],
      ['cancelled', 'Cancelled: session ended'],
    ]);
  });
});
