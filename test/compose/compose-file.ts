import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * docker-compose.yml, the Dockerfile, .dockerignore and Grafana's provisioning read the way Docker
 * and Grafana would read them, for tests that check them without a Docker engine (none runs on
 * the machines this project is built on). Deliberately small: only the syntax these files use.
 */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const readText = (relative: string): string => readFileSync(path.join(ROOT, relative), 'utf8');

export type Env = Readonly<Record<string, string | undefined>>;

export interface HealthCheck {
  readonly test: readonly string[] | string;
  readonly interval?: string;
  readonly timeout?: string;
  readonly retries?: number;
  readonly start_period?: string;
}

export interface Service {
  readonly image?: string;
  readonly build?: string | { readonly context?: string; readonly dockerfile?: string };
  readonly command?: readonly string[] | string;
  readonly environment?: Readonly<Record<string, string | number | boolean | null>>;
  readonly ports?: readonly string[];
  readonly volumes?: readonly string[];
  readonly healthcheck?: HealthCheck;
  readonly depends_on?: Readonly<Record<string, { readonly condition: string }>>;
  readonly restart?: string;
}

export interface ComposeFile {
  readonly services: Readonly<Record<string, Service>>;
  readonly volumes?: Readonly<Record<string, unknown>>;
}

/**
 * Compose's variable substitution: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty),
 * `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (refuse), `$$` (a literal `$`).
 * Stricter than Compose in one way: a variable without default that is unset is an error, not an
 * empty string with a warning (a silently empty value is how a script's `${...}` would go wrong).
 */
export function interpolate(text: string, env: Env): string {
  return text.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, dollar: string | undefined, braced, op: string | undefined, arg: string, bare) => {
      if (dollar) return '$';
      const name = (braced ?? bare) as string;
      const value = env[name];
      const missing = op?.startsWith(':') ? value === undefined || value === '' : value === undefined;
      if (!missing) return value as string;
      if (op === ':-' || op === '-') return arg;
      if (op === ':?' || op === '?') throw new Error(`required variable ${name} is missing: ${arg}`);
      throw new Error(`variable ${name} is not set and has no default`);
    },
  );
}

function interpolateAll(value: unknown, env: Env): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]));
  }
  return value;
}

/** docker-compose.yml as `docker compose config` would resolve it with `hostEnv` (merge keys, variables). */
export function loadCompose(hostEnv: Env, text: string = readText('docker-compose.yml')): ComposeFile {
  return interpolateAll(parse(text, { merge: true }), hostEnv) as ComposeFile;
}

/** A service's environment as the process sees it: every value a string. */
export function serviceEnv(service: Service): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]),
  );
}

export function commandOf(service: Service): string[] {
  const command = service.command ?? [];
  return typeof command === 'string' ? command.split(/\s+/) : [...command];
}

/** `"3000:3000"`, `"127.0.0.1:3000:3000/tcp"` → host and container port. */
export function parsePort(spec: string): { host: number; container: number } {
  const match = /^(?:[\d.]+:)?(\d+):(\d+)(?:\/tcp)?$/.exec(spec);
  if (!match) throw new Error(`port mapping ${spec} is not host:container`);
  return { host: Number(match[1]), container: Number(match[2]) };
}

/** Bind mounts (`./x:/y[:ro]`) and named volumes (`name:/y`). */
export function parseVolume(spec: string): { source: string; target: string; bind: boolean } {
  const [source = '', target = ''] = spec.split(':');
  return { source, target, bind: source.startsWith('.') || source.startsWith('/') };
}

export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
}

export interface DockerStage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly DockerInstruction[];
}

/** The Dockerfile's stages with their instructions (comments dropped, continuations joined). */
export function parseDockerfile(text: string = readText('Dockerfile')): DockerStage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: { from: string; name: string | undefined; instructions: DockerInstruction[] }[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [, from = '', name] = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile: ${keyword} before any FROM`);
      stage.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/**
 * .dockerignore as the builder reads it: Go filepath.Match patterns relative to the context,
 * `**` for any number of folders, `!` to re-include; the last matching pattern wins, and a path is
 * excluded when it or any folder above it is.
 */
export function dockerIgnored(patterns: readonly string[], relative: string): boolean {
  const rules = patterns
    .map((p) => p.trim())
    .filter((p) => p !== '' && !p.startsWith('#'))
    .map((p) => {
      const negate = p.startsWith('!');
      const body = path.posix.normalize((negate ? p.slice(1) : p).replace(/^\/+/, '')).replace(/\/+$/, '');
      const source = body
        .split(/(\*\*|\*|\?)/)
        .map((part) =>
          part === '**'
            ? '.*'
            : part === '*'
              ? '[^/]*'
              : part === '?'
                ? '[^/]'
                : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
        )
        .join('');
      return { negate, re: new RegExp(`^${source}$`) };
    });
  const parts = relative.split('/');
  const selfAndParents = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (selfAndParents.some((p) => rule.re.test(p))) ignored = !rule.negate;
  }
  return ignored;
}
