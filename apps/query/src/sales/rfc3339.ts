import { RFC3339_PATTERN } from '@tally/contracts';

const rfc3339 = new RegExp(RFC3339_PATTERN);

/**
 * An RFC 3339 date-time with offset (the contract's `occurredAt` grammar) as an instant, or
 * undefined when the text is not one: a day the month lacks, hour 24, or an instant outside the
 * years 0001–9999 that Postgres and the contract agree on. Date.parse alone would roll
 * 2026-02-30 over into March.
 */
export function parseInstant(text: string): Date | undefined {
  if (!rfc3339.test(text)) return undefined;
  const [year, month, day, hour, minute, second] = [
    text.slice(0, 4),
    text.slice(5, 7),
    text.slice(8, 10),
    text.slice(11, 13),
    text.slice(14, 16),
    text.slice(17, 19),
  ].map(Number) as [number, number, number, number, number, number];
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  local.setUTCFullYear(year); // Date.UTC reads years 0–99 as 1900–1999
  if (
    local.getUTCMonth() !== month - 1 ||
    local.getUTCDate() !== day ||
    local.getUTCHours() !== hour ||
    local.getUTCMinutes() !== minute ||
    local.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  const instant = new Date(Date.parse(text));
  if (Number.isNaN(instant.getTime())) return undefined;
  const utcYear = instant.getUTCFullYear();
  return utcYear >= 1 && utcYear <= 9999 ? instant : undefined;
}
