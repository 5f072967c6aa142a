import { describe, expect, it, vi } from 'vitest';
import { part10Loader, pixelDataSplit, type Part10Deps } from '../src/viewer-part10-loader';

const EXPLICIT = '1.2.840.10008.1.2.1';
const IMPLICIT = '1.2.840.10008.1.2';
const JPEG_LS = '1.2.840.10008.1.2.4.80';
const LONG_VR = new Set(['OB', 'OW', 'SQ', 'UN', 'UT']);

/** Little-endian bytes of DICOM elements, written by hand (independent of the parser under test). */
class Writer {
  readonly bytes: number[] = [];
  u16(v: number): this {
    this.bytes.push(v & 0xff, (v >> 8) & 0xff);
    return this;
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16((v >>> 16) & 0xffff);
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]!);
    return this;
  }
  tag(group: number, element: number): this {
    return this.u16(group).u16(element);
  }
  /** An explicit-VR element; `length` overrides the value's length (0xffffffff: undefined). */
  explicit(group: number, element: number, vr: string, value: ArrayLike<number>, length = value.length): this {
    this.tag(group, element).raw([vr.charCodeAt(0), vr.charCodeAt(1)]);
    if (LONG_VR.has(vr)) this.u16(0).u32(length);
    else this.u16(length);
    return this.raw(value);
  }
  implicit(group: number, element: number, value: ArrayLike<number>, length = value.length): this {
    return this.tag(group, element).u32(length).raw(value);
  }
}

/** An even-length string value (UI padded with NUL, others with a space). */
function str(s: string, pad = ' '): number[] {
  const v = [...s].map((c) => c.charCodeAt(0));
  if (v.length % 2) v.push(pad.charCodeAt(0));
  return v;
}
const us = (v: number): number[] => [v & 0xff, v >> 8];

/**
 * A Part 10 file: preamble, DICM, the meta group (explicit VR), then `body` in `syntax`. `frames` adds Number of
 * Frames; `icon` a sequence of undefined length whose item holds its own (nested) Pixel Data, before the top-level one.
 */
function part10(syntax: string, { frames, icon = false, pixels = [1, 0, 2, 0, 3, 0, 0xff, 0xff], encapsulated = false, noPixels = false } = {} as {
  frames?: number; icon?: boolean; pixels?: number[]; encapsulated?: boolean; noPixels?: boolean;
}): { buffer: ArrayBuffer; headerEnd: number; pixelOffset: number } {
  const meta = new Writer()
    .explicit(0x0002, 0x0001, 'OB', [0, 1])
    .explicit(0x0002, 0x0002, 'UI', str('1.2.840.10008.5.1.4.1.1.2', '\0'))
    .explicit(0x0002, 0x0003, 'UI', str('1.2.3.4', '\0'))
    .explicit(0x0002, 0x0010, 'UI', str(syntax, '\0'));
  const w = new Writer().raw(new Array(128).fill(0)).raw(str('DICM'));
  w.explicit(0x0002, 0x0000, 'UL', [...us(meta.bytes.length), 0, 0]).raw(meta.bytes);
  const implicit = syntax === IMPLICIT;
  const el = (g: number, e: number, vr: string, v: number[], len?: number): void => {
    if (implicit) w.implicit(g, e, v, len);
    else w.explicit(g, e, vr, v, len);
  };
  el(0x0008, 0x0016, 'UI', str('1.2.840.10008.5.1.4.1.1.2', '\0'));
  if (frames !== undefined) el(0x0028, 0x0008, 'IS', str(String(frames)));
  el(0x0028, 0x0010, 'US', us(2));
  el(0x0028, 0x0011, 'US', us(2));
  if (icon) {
    // (0088,0200) Icon Image Sequence, undefined length, one item of undefined length with its own Pixel Data
    const item = new Writer();
    if (implicit) item.implicit(0x7fe0, 0x0010, [9, 9]);
    else item.explicit(0x7fe0, 0x0010, 'OW', [9, 9]);
    const seq = new Writer().tag(0xfffe, 0xe000).u32(0xffffffff).raw(item.bytes).tag(0xfffe, 0xe00d).u32(0).tag(0xfffe, 0xe0dd).u32(0);
    el(0x0088, 0x0200, 'SQ', seq.bytes, 0xffffffff);
  }
  const headerEnd = w.bytes.length;
  if (!noPixels) {
    if (encapsulated) {
      const frags = new Writer().tag(0xfffe, 0xe000).u32(0).tag(0xfffe, 0xe000).u32(pixels.length).raw(pixels).tag(0xfffe, 0xe0dd).u32(0);
      el(0x7fe0, 0x0010, 'OB', frags.bytes, 0xffffffff);
    } else el(0x7fe0, 0x0010, 'OW', pixels);
  }
  const pixelOffset = headerEnd + (implicit ? 8 : 12);
  return { buffer: new Uint8Array(w.bytes).buffer, headerEnd, pixelOffset };
}

describe('pixelDataSplit', () => {
  it('places the top-level Pixel Data of an Explicit VR Little Endian file', () => {
    const f = part10(EXPLICIT);
    expect(pixelDataSplit(new Uint8Array(f.buffer))).toEqual({ transferSyntax: EXPLICIT, headerEnd: f.headerEnd, pixelOffset: f.pixelOffset, pixelLength: 8 });
  });
  it('places it in an Implicit VR Little Endian file (an 8-byte element header)', () => {
    const f = part10(IMPLICIT);
    expect(pixelDataSplit(new Uint8Array(f.buffer))).toEqual({ transferSyntax: IMPLICIT, headerEnd: f.headerEnd, pixelOffset: f.pixelOffset, pixelLength: 8 });
  });
  it('skips a Pixel Data nested in a sequence (an icon image) for the top-level one', () => {
    for (const syntax of [EXPLICIT, IMPLICIT]) {
      const f = part10(syntax, { icon: true });
      const split = pixelDataSplit(new Uint8Array(f.buffer));
      expect(split?.headerEnd).toBe(f.headerEnd);
      expect([...new Uint8Array(f.buffer, split!.pixelOffset, split!.pixelLength)]).toEqual([1, 0, 2, 0, 3, 0, 0xff, 0xff]);
    }
  });
  it('accepts Number of Frames 1 and refuses a multi-frame instance', () => {
    expect(pixelDataSplit(new Uint8Array(part10(EXPLICIT, { frames: 1 }).buffer))).not.toBeNull();
    expect(pixelDataSplit(new Uint8Array(part10(EXPLICIT, { frames: 3, pixels: new Array(24).fill(1) }).buffer))).toBeNull();
  });
  it('refuses other syntaxes, encapsulated pixel data, a file without pixel data, a truncated or foreign file', () => {
    expect(pixelDataSplit(new Uint8Array(part10(JPEG_LS).buffer))).toBeNull();
    expect(pixelDataSplit(new Uint8Array(part10(EXPLICIT, { encapsulated: true }).buffer))).toBeNull();
    expect(pixelDataSplit(new Uint8Array(part10(EXPLICIT, { noPixels: true }).buffer))).toBeNull();
    const whole = new Uint8Array(part10(EXPLICIT).buffer);
    expect(pixelDataSplit(whole.slice(0, whole.length - 3))).toBeNull();
    expect(pixelDataSplit(new Uint8Array(300))).toBeNull();
    expect(pixelDataSplit(new Uint8Array(0))).toBeNull();
  });
});

function fakeDeps(file: ArrayBuffer): Part10Deps & { calls: string[]; added: ArrayBuffer[]; pixels: number[][] } {
  const calls: string[] = [];
  const added: ArrayBuffer[] = [];
  const pixels: number[][] = [];
  return {
    calls,
    added,
    pixels,
    request: vi.fn(async (url: string) => {
      calls.push(`request ${url}`);
      return file;
    }),
    addPart10: vi.fn(async (base: string, part: ArrayBuffer) => {
      calls.push(`add ${base}`);
      added.push(part);
    }),
    naturalized: () => ({ Rows: 2 }),
    createImage: vi.fn(async (imageId: string, pixelData: Uint8Array, syntax: string, options: Record<string, unknown>) => {
      calls.push(`create ${imageId} ${syntax} ${Object.keys(options).join(',')}`);
      pixels.push([...pixelData]);
      return { imageId };
    }),
    fallback: vi.fn((imageId: string) => {
      calls.push(`fallback ${imageId}`);
      return { promise: Promise.resolve({ imageId, from: 'cornerstone' }) };
    }),
    fullResolution: 7,
    // the DICOM loader's parse (wadouri.parseImageId) for the two image ID forms the viewer makes
    parseImageId: (imageId: string) => {
      const [, url, frame] = /^wadouri:([^?]*)(?:\?frame=(\d+))?$/.exec(imageId)!;
      return { scheme: 'wadouri', url: url!, ...(frame === undefined ? {} : { frame: Number(frame) }) };
    },
  };
}

describe('part10Loader', () => {
  const id = 'wadouri:http://o/instances/a/file';
  it('reads a single-frame uncompressed file once: the header into the store, the frame as a view of the file', async () => {
    const f = part10(EXPLICIT);
    const deps = fakeDeps(f.buffer);
    const image = (await part10Loader(deps)(id, { loader: 'x', priority: 1 }).promise) as Record<string, unknown>;
    expect(deps.calls).toEqual(['request http://o/instances/a/file', 'add wadouri:http://o/instances/a/file', `create ${id} ${EXPLICIT} priority`]);
    expect(deps.added[0]!.byteLength).toBe(f.headerEnd);
    expect(deps.pixels[0]).toEqual([1, 0, 2, 0, 3, 0, 0xff, 0xff]);
    expect(image.imageQualityStatus).toBe(7);
    expect(image.data).toEqual({ Rows: 2 });
    expect(typeof image.totalTimeInMS).toBe('number');
  });
  it('hands any other file to cornerstone with the bytes already read (nothing fetched twice)', async () => {
    const f = part10(JPEG_LS);
    const deps = fakeDeps(f.buffer);
    const image = await part10Loader(deps)(id).promise;
    expect(deps.calls).toEqual(['request http://o/instances/a/file', 'add wadouri:http://o/instances/a/file', `fallback ${id}`]);
    expect(deps.added[0]).toBe(f.buffer);
    expect(image).toEqual({ imageId: id, from: 'cornerstone' });
  });
  it('leaves a frame of a multi-frame instance to cornerstone', async () => {
    const deps = fakeDeps(part10(EXPLICIT).buffer);
    await part10Loader(deps)(`${id}?frame=2`).promise;
    expect(deps.calls).toEqual([`fallback ${id}?frame=2`]);
  });
  it('rejects when the request fails, without storing anything', async () => {
    const deps = fakeDeps(part10(EXPLICIT).buffer);
    deps.request = async () => {
      throw new Error('404');
    };
    await expect(part10Loader(deps)(id).promise).rejects.toThrow('404');
    expect(deps.added).toEqual([]);
  });
});
