import { describe, expect, it } from 'vitest';
import { parseSliceValues } from '../src/viewer-volume-values';

const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name.toLowerCase()] ?? null });

describe('parseSliceValues', () => {
  it('reads int16 values with their range and the file window', () => {
    const body = new Int16Array([-1024, 0, 40, 3071, 5, 6]).buffer;
    const s = parseSliceValues(headers({ 'x-rr-values': 'int16', 'x-rr-columns': '3', 'x-rr-rows': '2', 'x-rr-range': '-1024 3071', 'x-rr-window': '40 400' }), body);
    expect(s).not.toBeNull();
    expect(s!.values).toBeInstanceOf(Int16Array);
    expect(Array.from(s!.values)).toEqual([-1024, 0, 40, 3071, 5, 6]);
    expect([s!.columns, s!.rows, s!.min, s!.max, s!.integral]).toEqual([3, 2, -1024, 3071, true]);
    expect(s!.window).toEqual({ center: 40, width: 400 });
  });

  it('reads float32 values, computes a missing range, ignores a bad window', () => {
    const body = new Float32Array([0.5, -2.25]).buffer;
    const s = parseSliceValues(headers({ 'x-rr-values': 'float32', 'x-rr-columns': '2', 'x-rr-rows': '1', 'x-rr-window': '40 0' }), body);
    expect(s!.values).toBeInstanceOf(Float32Array);
    expect([s!.min, s!.max, s!.integral]).toEqual([-2.25, 0.5, false]);
    expect(s!.window).toBeNull();
  });

  it('refuses an answer that is not one: unknown type, wrong size, missing dimensions', () => {
    const body = new Int16Array(6).buffer;
    expect(parseSliceValues(headers({ 'x-rr-values': 'int32', 'x-rr-columns': '3', 'x-rr-rows': '2' }), body)).toBeNull();
    expect(parseSliceValues(headers({ 'x-rr-values': 'int16', 'x-rr-columns': '4', 'x-rr-rows': '2' }), body)).toBeNull();
    expect(parseSliceValues(headers({ 'x-rr-values': 'float32', 'x-rr-columns': '3', 'x-rr-rows': '2' }), body)).toBeNull();
    expect(parseSliceValues(headers({ 'x-rr-values': 'int16', 'x-rr-rows': '2' }), body)).toBeNull();
    expect(parseSliceValues(headers({}), body)).toBeNull();
  });
});
