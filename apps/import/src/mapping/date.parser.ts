import type { Parsed } from './decimal.parser.js';

/**
 * Dates as CSV exports write them, turned into the contract's RFC 3339 `occurredAt`.
 *
 * A format is `iso` (ISO 8601 / RFC 3339: `2021-01-07T00:09:24Z`, `2021-01-07 00:09:24`,
 * `2021-01-07 00:09:24 UTC` as BigQuery exports it, `2021-01-07`; with or without offset) or a
 * pattern of tokens: `yyyy` `MM` `M` `dd` `d` `HH` `H` `mm` `ss` `S…` (fraction, any number of
 * digits) `XXX` (offset `Z`, `+01:00`, `+0100`); anything else is literal, and letters are
 * literal inside single quotes (`yyyy-MM-dd'T'HH:mm`).
 * Fields the pattern lacks are zero (a date-only format is local midnight).
 *
 * A date written without an offset is local time in the mapping's `timezone`: an IANA zone
 * (offsets from the runtime's time zone data, daylight saving included) or a fixed offset. The
 * output keeps the wall-clock fields as written and appends the zone's offset at that instant,
 * so no digit is re-derived from a float. A local time that does not exist (the hour skipped
 * when clocks go forward) is an error; one that exists twice (clocks go back) is the earlier.
 */

export type DateParser = (text: string) => Parsed<string>;

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction digits as written ('' for none). */
  fraction: string;
  /** Offset as written, normalised to `Z` or `±hh:mm`; undefined when the text has none. */
  offset?: string;
}

type Setter = (fields: Fields, text: string) => void;

const TOKENS: ReadonlyArray<[string, string, Setter]> = [
  ['yyyy', '(\\d{4})', (f, t) => (f.year = Number(t))],
  ['MM', '(\\d{2})', (f, t) => (f.month = Number(t))],
  ['M', '(\\d{1,2})', (f, t) => (f.month = Number(t))],
  ['dd', '(\\d{2})', (f, t) => (f.day = Number(t))],
  ['d', '(\\d{1,2})', (f, t) => (f.day = Number(t))],
  ['HH', '(\\d{2})', (f, t) => (f.hour = Number(t))],
  ['H', '(\\d{1,2})', (f, t) => (f.hour = Number(t))],
  ['mm', '(\\d{2})', (f, t) => (f.minute = Number(t))],
  ['ss', '(\\d{2})', (f, t) => (f.second = Number(t))],
  ['XXX', '(Z|[+-]\\d{2}:?\\d{2})', (f, t) => (f.offset = normaliseOffset(t))],
];

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;

/** Compiles a date format with the zone for dates without an offset; throws on a bad format or zone. */
export function dateParser(format: string, timezone: string): DateParser {
  const zone = timeZone(timezone);
  const extract = format === 'iso' ? isoFields : patternFields(format);
  return (text: string) => {
    const trimmed = text.trim();
    if (trimmed === '') return { ok: false, rule: 'required', message: 'is empty' };
    const fields = extract(trimmed);
    if (fields === undefined) {
      return {
        ok: false,
        rule: 'date-format',
        message: `${JSON.stringify(text)} does not match the format ${format}`,
      };
    }
    const problem = calendarProblem(fields);
    if (problem !== undefined) {
      return { ok: false, rule: 'date', message: `${JSON.stringify(text)}: ${problem}` };
    }
    let offset = fields.offset;
    if (offset === undefined) {
      const resolved = zone.offsetOf(fields);
      if (resolved === undefined) {
        return {
          ok: false,
          rule: 'date-nonexistent',
          message: `${JSON.stringify(text)} does not exist in ${timezone} (clocks went forward)`,
        };
      }
      offset = resolved;
    }
    return { ok: true, value: format3339(fields, offset) };
  };
}

function isoFields(text: string): Fields | undefined {
  const m = ISO.exec(text);
  if (m === null) return undefined;
  return {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    fraction: m[7] ?? '',
    ...(m[8] !== undefined && { offset: normaliseOffset(m[8]) }),
  };
}

function patternFields(format: string): (text: string) => Fields | undefined {
  let source = '';
  const setters: Setter[] = [];
  let i = 0;
  while (i < format.length) {
    const ch = format[i]!;
    if (ch === "'") {
      const end = format.indexOf("'", i + 1);
      if (end < 0) throw new Error(`date format ${format}: unclosed quote`);
      source += escapeRegex(format.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    if (ch === 'S') {
      let j = i;
      while (format[j] === 'S') j++;
      source += '(\\d{1,9})';
      setters.push((f, t) => (f.fraction = t));
      i = j;
      continue;
    }
    const token = TOKENS.find(([name]) => format.startsWith(name, i));
    if (token !== undefined) {
      source += token[1];
      setters.push(token[2]);
      i += token[0].length;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      throw new Error(`date format ${format}: unknown token '${ch}' (quote literal letters: 'T')`);
    }
    source += escapeRegex(ch);
    i++;
  }
  if (!/yyyy/.test(format.replace(/'[^']*'/g, '')))
    throw new Error(`date format ${format}: needs a yyyy year`);
  const regex = new RegExp(`^${source}$`);
  return (text) => {
    const m = regex.exec(text);
    if (m === null) return undefined;
    const fields: Fields = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: '' };
    for (let k = 0; k < setters.length; k++) setters[k]!(fields, m[k + 1]!);
    return fields;
  };
}

function calendarProblem(f: Fields): string | undefined {
  if (f.month < 1 || f.month > 12) return `month ${f.month} is not 1–12`;
  const leap = f.year % 4 === 0 && (f.year % 100 !== 0 || f.year % 400 === 0);
  const days = f.month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(f.month) ? 30 : 31;
  if (f.day < 1 || f.day > days) return `day ${f.day} does not exist in ${f.year}-${pad(f.month)}`;
  if (f.hour > 23) return `hour ${f.hour} is not 0–23`;
  if (f.minute > 59) return `minute ${f.minute} is not 0–59`;
  if (f.second > 59) return `second ${f.second} is not 0–59`;
  if (f.offset !== undefined && Number(f.offset.slice(1, 3)) > 23)
    return `offset ${f.offset} is out of range`;
  return undefined;
}

function format3339(f: Fields, offset: string): string {
  const fraction = f.fraction === '' ? '' : `.${f.fraction}`;
  return `${f.year}-${pad(f.month)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}${fraction}${offset}`;
}

function normaliseOffset(text: string): string {
  if (text === 'Z' || text === 'z' || text === 'UTC') return 'Z';
  const digits = text.slice(1).replace(':', '');
  return `${text[0]}${digits.slice(0, 2)}:${digits.length >= 4 ? digits.slice(2, 4) : '00'}`;
}

interface Zone {
  /** The offset of a local wall-clock time, or undefined if that time does not exist there. */
  offsetOf(fields: Fields): string | undefined;
}

const FIXED = /^(Z|UTC|[+-]\d{2}:?\d{2})$/;

/** A fixed offset, or an IANA zone read through Intl (throws RangeError naming an unknown zone). */
export function timeZone(name: string): Zone {
  if (FIXED.test(name)) {
    const offset = name === 'UTC' ? 'Z' : normaliseOffset(name);
    return { offsetOf: () => offset };
  }
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new Error(`timezone ${name}: not an IANA zone known to this runtime, nor an offset like +01:00`);
  }
  /** Offset in minutes of the zone at a UTC instant (whole seconds). */
  const offsetAt = (utcMs: number): number => {
    const parts = formatter.formatToParts(new Date(utcMs));
    const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
    const local = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    return Math.round((local - Math.floor(utcMs / 1000) * 1000) / 60_000);
  };
  // Hours at least a day away from any offset change resolve alike for every minute in them:
  // cache those (bounded), compute the rest exactly.
  const stable = new Map<number, number>();
  return {
    offsetOf(f) {
      const wall = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
      const hour = Math.floor(wall / 3_600_000);
      let minutes = stable.get(hour);
      if (minutes === undefined) {
        const before = offsetAt(wall - 86_400_000);
        const after = offsetAt(wall + 86_400_000);
        const candidates = [...new Set([before, after])]
          .map((m) => wall - m * 60_000)
          .filter((utc) => offsetAt(utc) === (wall - utc) / 60_000)
          .sort((a, b) => a - b);
        if (candidates.length === 0) return undefined;
        minutes = (wall - candidates[0]!) / 60_000;
        if (before === after) {
          if (stable.size >= 10_000) stable.clear();
          stable.set(hour, minutes);
        }
      }
      return formatOffset(minutes);
    },
  };
}

function formatOffset(minutes: number): string {
  if (minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
