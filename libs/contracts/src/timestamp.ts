/**
 * Milliseconds since the epoch of an RFC 3339 timestamp that validateSale accepted (or ingest
 * stamped), equal to Date.parse(text) for every such text.
 *
 * The aggregator reads two timestamps per sale; Date.parse is a general date parser and costs
 * several times a read of the fixed layout most tills send, `YYYY-MM-DDTHH:MM:SS[.sss](Z|±HH:MM)`.
 * That layout is read digit by digit here; anything else (another count of fractional digits,
 * a lower-case `t`) goes to Date.parse.
 */
export function timestampMs(text: string): number {
  const n = text.length;
  // 2026-11-21T19:48:44Z (20) · …44.123Z (24) · …44+02:00 (25) · …44.123+02:00 (29)
  if (n !== 20 && n !== 24 && n !== 25 && n !== 29) return Date.parse(text);
  if (
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) {
    return Date.parse(text);
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  let at = 19;
  let ms = 0;
  if (text.charCodeAt(at) === 46) {
    ms = digits(text, 20, 3);
    at = 23;
  }
  let offsetMin = 0;
  const zone = text.charCodeAt(at);
  if (zone === 90) {
    if (at + 1 !== n) return Date.parse(text);
  } else if ((zone === 43 || zone === 45) && at + 6 === n && text.charCodeAt(at + 3) === 58) {
    const h = digits(text, at + 1, 2);
    const m = digits(text, at + 4, 2);
    if (h < 0 || m < 0 || h > 23 || m > 59) return Date.parse(text);
    offsetMin = (zone === 43 ? 1 : -1) * (h * 60 + m);
  } else {
    return Date.parse(text);
  }
  // Years below 100 mean 19xx to Date.UTC.
  if ((year | month | day | hour | minute | second | ms) < 0 || year < 100) return Date.parse(text);
  // Out-of-range fields (month 13, hour 24, 60 seconds) are Date.parse's to judge (NaN).
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return Date.parse(text);
  }
  // 31 February rolls into March, as with Date.parse (validateSale rejects it before).
  return dayMs(year, month, day) + ((hour * 60 + minute - offsetMin) * 60 + second) * 1000 + ms;
}

/**
 * Date.UTC(year, month - 1, day) of the last date asked, kept: the sales of one stream come from
 * a few dates, and Date.UTC costs as much as reading the whole text. Hours, minutes, seconds and
 * milliseconds within range add to a date's midnight exactly as Date.UTC adds them.
 */
let lastDate = -1;
let lastDayMs = 0;

function dayMs(year: number, month: number, day: number): number {
  const date = (year * 100 + month) * 100 + day;
  if (date !== lastDate) {
    lastDayMs = Date.UTC(year, month - 1, day);
    lastDate = date;
  }
  return lastDayMs;
}

/** The decimal value of `count` ASCII digits at `from`, or -1 if any is not a digit. */
function digits(text: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
