/**
 * Typed reads of environment variables. Each app builds one validated config object from these
 * at boot; a bad value stops the process with an error naming the variable and the rule,
 * instead of surfacing later as a confusing runtime failure.
 */
import { parseDuration } from './durations.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Env = Readonly<Record<string, string | undefined>>;

export function envString(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? fallback : raw.trim();
}

export function envInt(
  env: Env,
  name: string,
  fallback: number,
  range: { min?: number; max?: number } = {},
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw}: must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function envEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = envString(env, name, fallback);
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name}=${raw}: must be one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

/** Durations such as `500ms`, `30s`, `2m`, `1h30m` or `7d` (the grammar of the nats/ definitions), in ms. */
export function envDurationMs(env: Env, name: string, fallback: string): number {
  const raw = envString(env, name, fallback);
  try {
    return Math.round(parseDuration(raw) / 1e6);
  } catch {
    throw new ConfigError(`${name}=${raw}: must be a duration such as 500ms, 30s, 2m, 1h or 7d`);
  }
}
