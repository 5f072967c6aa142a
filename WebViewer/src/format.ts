// Formatting of DICOM strings for display. Output is plain text: callers put it in textContent.

/** DICOM PN "FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX" (alphabetic group) -> "FAMILY, GIVEN MIDDLE". */
export function formatPersonName(pn: string | null | undefined): string {
  if (!pn) return '';
  const groups = pn.split('=');
  const group = groups.find((g) => g.replace(/\^/g, '').trim() !== '') ?? '';
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = group
    .split('^')
    .map((part) => part.trim().replace(/\s+/g, ' '));
  const givenPart = [given, middle].filter(Boolean).join(' ');
  let name = family && givenPart ? `${family}, ${givenPart}` : family || givenPart;
  if (prefix) name = `${prefix} ${name}`;
  if (suffix) name = `${name}, ${suffix}`;
  return name.trim();
}

/** DICOM DA "YYYYMMDD" (or legacy "YYYY.MM.DD") -> "YYYY-MM-DD"; anything else is returned trimmed. */
export function formatDate(da: string | null | undefined): string {
  if (!da) return '';
  const text = da.trim();
  const m = /^(\d{4})[.-]?(\d{2})[.-]?(\d{2})$/.exec(text);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : text;
}

/** DICOM TM "HHMMSS.FFFFFF", "HHMM", "HH" (or legacy "HH:MM:SS") -> "HH:MM[:SS]". */
export function formatTime(tm: string | null | undefined): string {
  if (!tm) return '';
  const text = tm.trim();
  const m = /^(\d{2}):?(\d{2})?(?::?(\d{2}))?(?:\.\d{1,6})?$/.exec(text);
  if (!m) return text;
  const [, hh, mm = '00', ss] = m;
  return ss ? `${hh}:${mm}:${ss}` : `${hh}:${mm}`;
}

/** Study date and time -> "YYYY-MM-DD HH:MM" (seconds dropped for the dense list). */
export function formatDateTime(da: string | null | undefined, tm: string | null | undefined): string {
  const date = formatDate(da);
  const time = formatTime(tm).slice(0, 5);
  return [date, time].filter(Boolean).join(' ');
}

/** "YYYY-MM-DD" from a Date in local time. */
export function isoDay(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** ISO-8601 instant ("2026-11-24T23:59:01Z") -> local "YYYY-MM-DD HH:MM". */
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${isoDay(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Sex code -> display ("M", "F", "O"); empty stays empty. */
export function formatSex(sex: string | null | undefined): string {
  return (sex ?? '').trim().toUpperCase();
}

/** Birth date and sex -> "1970-01-31 · F". */
export function formatBirthSex(birthDate: string | null | undefined, sex: string | null | undefined): string {
  return [formatDate(birthDate), formatSex(sex)].filter(Boolean).join(' · ');
}

/** Modalities list -> "CT, SR". */
export function formatModalities(modalities: readonly string[] | null | undefined): string {
  return (modalities ?? []).filter(Boolean).join(', ');
}

/** Series / images counts -> "3 / 120". */
export function formatCounts(series: number, instances: number): string {
  return `${series} / ${instances}`;
}

/** ISO-8601 instant -> local "YYYY-MM-DD HH:MM:SS" (audit records). */
export function formatInstantSeconds(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${formatInstant(iso)}:${String(d.getSeconds()).padStart(2, '0')}`;
}

/** Byte count -> "512 B", "1.4 KB", "12.0 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
