import { describe, expect, it } from 'vitest';
import {
  formatBirthSex,
  formatDate,
  formatDateTime,
  formatInstant,
  formatModalities,
  formatPersonName,
  formatTime,
} from '../src/format';

describe('formatPersonName', () => {
  it.each([
    ['DOE^JOHN', 'DOE, JOHN'],
    ['DOE^JOHN^A', 'DOE, JOHN A'],
    ['DOE^JOHN^^DR^JR', 'DR DOE, JOHN, JR'],
    ['DOE', 'DOE'],
    ['DOE^', 'DOE'],
    ['^JOHN', 'JOHN'],
    ['Yamada^Tarou=山田^太郎=やまだ^たろう', 'Yamada, Tarou'],
    ['=山田^太郎', '山田, 太郎'],
    ['  DOE ^ JOHN ', 'DOE, JOHN'],
    ['Lung_Dx-A0002', 'Lung_Dx-A0002'],
    ['', ''],
  ])('%j -> %j', (pn, expected) => {
    expect(formatPersonName(pn)).toBe(expected);
  });

  it('keeps payloads as text', () => {
    expect(formatPersonName('Xss^Patient<script>alert("x")</script>')).toBe('Xss, Patient<script>alert("x")</script>');
  });

  it('accepts null/undefined', () => {
    expect(formatPersonName(null)).toBe('');
    expect(formatPersonName(undefined)).toBe('');
  });
});

describe('formatDate', () => {
  it.each([
    ['20070425', '2007-04-25'],
    ['2007.04.25', '2007-04-25'],
    ['2007-04-25', '2007-04-25'],
    [' 19920402 ', '1992-04-02'],
    ['', ''],
    ['garbage', 'garbage'],
    ['2007', '2007'],
  ])('%j -> %j', (da, expected) => {
    expect(formatDate(da)).toBe(expected);
  });
});

describe('formatTime', () => {
  it.each([
    ['173333.468000', '17:33:33'],
    ['173333', '17:33:33'],
    ['1733', '17:33'],
    ['17', '17:00'],
    ['17:33:33', '17:33:33'],
    ['085321.125', '08:53:21'],
    ['', ''],
    ['x', 'x'],
  ])('%j -> %j', (tm, expected) => {
    expect(formatTime(tm)).toBe(expected);
  });
});

describe('other formatters', () => {
  it('formats study date and time', () => {
    expect(formatDateTime('20070425', '173333.468000')).toBe('2007-04-25 17:33');
    expect(formatDateTime('20070425', '')).toBe('2007-04-25');
    expect(formatDateTime('', '1200')).toBe('12:00');
  });

  it('formats instants in local time (TZ=UTC in tests)', () => {
    expect(formatInstant('2026-11-24T23:59:01Z')).toBe('2026-11-24 23:59');
    expect(formatInstant('')).toBe('');
    expect(formatInstant('not a date')).toBe('not a date');
  });

  it('formats birth date / sex and modalities', () => {
    expect(formatBirthSex('19700131', 'f')).toBe('1970-01-31 · F');
    expect(formatBirthSex('', 'M')).toBe('M');
    expect(formatBirthSex('', '')).toBe('');
    expect(formatModalities(['CT', 'SR'])).toBe('CT, SR');
    expect(formatModalities([])).toBe('');
  });
});
