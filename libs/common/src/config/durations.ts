/**
 * Durations in definition files: JetStream's API wants nanoseconds, people read "30s".
 * A field may hold either a non-negative integer (nanoseconds, as the API has it) or a string
 * of one or more `<number><unit>` parts, e.g. "500ms", "30s", "2m", "1h30m", "7d".
 */
const NANOS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3_600e9,
  d: 86_400e9,
};

const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ns|us|ms|s|m|h|d)/g;

/** Parses "30s", "2m", "7d", "1h30m" (or passes through integer nanoseconds) into nanoseconds. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw new Error(`invalid duration ${value}: a number must be a non-negative integer of nanoseconds`);
  }
  if (typeof value !== 'string' || !DURATION.test(value.trim())) {
    throw new Error(
      `invalid duration ${JSON.stringify(value)}: use e.g. "500ms", "30s", "2m", "1h30m", "7d" or integer nanoseconds`,
    );
  }
  let nanos = 0;
  for (const [, amount, unit] of value.trim().matchAll(PART)) {
    nanos += Number(amount) * NANOS_PER_UNIT[unit as string]!;
  }
  nanos = Math.round(nanos);
  if (!Number.isSafeInteger(nanos)) {
    throw new Error(`invalid duration ${JSON.stringify(value)}: too large to express in nanoseconds`);
  }
  return nanos;
}

/** Formats nanoseconds the way a definition file would write them: 604800000000000 -> "7d". */
export function formatDuration(nanos: number): string {
  if (nanos === 0) return '0s';
  let rest = nanos;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms', 'us', 'ns']) {
    const size = NANOS_PER_UNIT[unit]!;
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}
