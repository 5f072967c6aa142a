// Checked readers of JSON answers: the one place where an `unknown` parsed body becomes typed data.
//
// Two kinds of reader:
//  - field readers (str, num, bool, strOrNull, id, list, fields): a missing or mistyped value gets a neutral
//    value, so that one odd field never breaks a page (the server may leave optional fields out);
//  - structure readers (object, arrayOf, optArrayOf): a value of the wrong shape throws DecodeError naming
//    where it was found. Api turns a DecodeError into ApiError 'bad_response' ("Unexpected answer from the
//    server: …"), which pages show like any other error.
// Every string read here is untrusted: shown as text only.

/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/** An answer of the wrong shape; `message` says where ("data[3]: expected an object"). */
export class DecodeError extends Error {
  constructor(path: string, expected: string) {
    super(`${path}: expected ${expected}`);
    this.name = 'DecodeError';
  }
}

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- field readers (neutral value when missing or mistyped) --------------------------------

/** The string, '' otherwise. */
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
/** A non-empty string, null otherwise (timestamps, optional texts). */
export const strOrNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
/** A finite number, null otherwise. */
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** A boolean, null otherwise ("the server did not say"). */
export const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
/** Ids may be numbers or strings on the wire; the app keeps strings ('' when neither). */
export const id = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? String(v) : str(v));
/** The array, [] otherwise. */
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** The strings of an array (other items dropped), [] when not an array. */
export const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string');
/** The object, {} otherwise: its fields then read as neutral values. */
export const fields = (v: unknown): JsonObject => (isRecord(v) ? v : {});
/** reader(v) when v is neither undefined nor null, null otherwise. */
export function nullable<T>(v: unknown, reader: (x: unknown) => T): T | null {
  return v === undefined || v === null ? null : reader(v);
}

// ---- structure readers (DecodeError when the shape is wrong) -------------------------------

/** The object; throws DecodeError otherwise. */
export function object(v: unknown, path: string): JsonObject {
  if (!isRecord(v)) throw new DecodeError(path, 'an object');
  return v;
}

/** Each item of an array read by `item` (given its path); throws DecodeError when v is not an array. */
export function arrayOf<T>(v: unknown, path: string, item: (x: unknown, itemPath: string) => T): T[] {
  if (!Array.isArray(v)) throw new DecodeError(path, 'an array');
  return v.map((x, i) => item(x, `${path}[${i}]`));
}

/** As arrayOf, with [] when the value is absent (undefined or null). */
export function optArrayOf<T>(v: unknown, path: string, item: (x: unknown, itemPath: string) => T): T[] {
  return v === undefined || v === null ? [] : arrayOf(v, path, item);
}

/** A required string field; throws DecodeError otherwise. */
export function requiredStr(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new DecodeError(path, 'a string');
  return v;
}

/** A required boolean field; throws DecodeError otherwise. */
export function requiredBool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new DecodeError(path, 'a boolean');
  return v;
}
