import { describe, expect, it, vi } from 'vitest';
import { decodeUncompressedInPage, inPageExecuteTask, type DecodeFrame, type ExecuteTask } from '../src/viewer-inpage-decode';

const task = (transferSyntax: string) => ({ imageFrame: { rows: 2 }, transferSyntax, pixelData: new Uint8Array(8), decodeConfig: { c: 1 }, options: { o: 1 } });

describe('inPageExecuteTask', () => {
  it('decodes Implicit and Explicit VR Little Endian frames with the loader function, on the calling thread', async () => {
    const execute = vi.fn<ExecuteTask>(async () => 'worker');
    const decode = vi.fn<DecodeFrame>(async () => 'page');
    const run = inPageExecuteTask(execute, decode);
    for (const ts of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']) {
      const args = task(ts);
      expect(await run('dicomImageLoader', 'decodeTask', args, { priority: 1 })).toBe('page');
      expect(decode).toHaveBeenLastCalledWith(args.imageFrame, ts, args.pixelData, args.decodeConfig, args.options);
    }
    expect(execute).not.toHaveBeenCalled();
  });
  it('sends every other syntax and every other task to the workers unchanged', async () => {
    const execute = vi.fn<ExecuteTask>(async () => 'worker');
    const decode = vi.fn<DecodeFrame>(async () => 'page');
    const run = inPageExecuteTask(execute, decode);
    for (const ts of ['1.2.840.10008.1.2.2', '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.1.99']) {
      expect(await run('dicomImageLoader', 'decodeTask', task(ts), { p: 1 })).toBe('worker');
    }
    expect(await run('compute', 'decodeTask', task('1.2.840.10008.1.2.1'))).toBe('worker');
    expect(await run('dicomImageLoader', 'other', task('1.2.840.10008.1.2.1'))).toBe('worker');
    expect(await run('dicomImageLoader', 'decodeTask', null)).toBe('worker');
    expect(decode).not.toHaveBeenCalled();
    expect(execute).toHaveBeenCalledTimes(8);
    expect(execute).toHaveBeenNthCalledWith(1, 'dicomImageLoader', 'decodeTask', task('1.2.840.10008.1.2.2'), { p: 1 });
  });
  it('turns a decode that throws into a rejection, as a worker failure would be', async () => {
    const run = inPageExecuteTask(async () => 'worker', () => {
      throw new Error('bad frame');
    });
    await expect(run('dicomImageLoader', 'decodeTask', task('1.2.840.10008.1.2.1'))).rejects.toThrow('bad frame');
  });
});

describe('decodeUncompressedInPage', () => {
  it('wraps the manager once, keeping its own executeTask for the rest', async () => {
    const manager = {
      tasks: 0,
      executeTask(this: { tasks: number }, ..._args: unknown[]): Promise<unknown> {
        this.tasks++;
        return Promise.resolve('worker');
      },
    };
    const decode = vi.fn<DecodeFrame>(async () => 'page');
    decodeUncompressedInPage(manager, decode);
    decodeUncompressedInPage(manager, decode);
    expect(await manager.executeTask('dicomImageLoader', 'decodeTask', task('1.2.840.10008.1.2.1'))).toBe('page');
    expect(await manager.executeTask('dicomImageLoader', 'decodeTask', task('1.2.840.10008.1.2.4.50'))).toBe('worker');
    expect(manager.tasks).toBe(1);
    expect(decode).toHaveBeenCalledTimes(1);
  });
});
