import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUp } from '@tally/common';
import { Ajv, type ErrorObject } from 'ajv';
import { type Mapping, MappingSchema } from './mapping.schema.js';
import { MappingError } from './row.mapper.js';

/**
 * `--mapping <name | file>`: a preset of apps/import/presets/ by name (`marketplace`), or a
 * mapping file by path. The file is checked against MappingSchema and every problem is named
 * by JSON pointer; command-line overrides (--branch, --currency, --timezone, --sale-id-prefix)
 * replace the mapping's fixed values before that check.
 */

export interface MappingOverrides {
  readonly branchId?: string;
  readonly currency?: string;
  readonly timezone?: string;
  readonly saleIdPrefix?: string;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateMapping = ajv.compile<Mapping>(MappingSchema);

/** The presets folder (not built into dist/: found from this file's folder upwards). */
export function presetsDir(): string {
  return findUp('apps/import/presets', 'marketplace.json', path.dirname(fileURLToPath(import.meta.url)));
}

export function presetNames(): string[] {
  return readdirSync(presetsDir())
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

/** Loads and checks a mapping; `baseDir` resolves a relative path. Throws MappingError naming the problem. */
export function loadMapping(ref: string, overrides: MappingOverrides = {}, baseDir = process.cwd()): Mapping {
  const isName = /^[a-z0-9-]+$/.test(ref) && !existsSync(path.resolve(baseDir, ref));
  const file = isName ? path.join(presetsDir(), `${ref}.json`) : path.resolve(baseDir, ref);
  if (!existsSync(file)) {
    throw new MappingError(
      isName
        ? `--mapping ${ref}: no such preset (presets: ${presetNames().join(', ')}) nor file`
        : `--mapping ${ref}: no such file`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MappingError(`${file}: not JSON: ${(error as Error).message}`);
  }
  return checkMapping(applyOverrides(raw, overrides), file);
}

/** Checks a parsed mapping against the schema; throws MappingError listing each broken field. */
export function checkMapping(raw: unknown, source = 'mapping'): Mapping {
  if (!validateMapping(raw)) {
    throw new MappingError(`${source}: ${(validateMapping.errors ?? []).map(describe).join('; ')}`);
  }
  return raw;
}

function applyOverrides(raw: unknown, overrides: MappingOverrides): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const mapping = structuredClone(raw) as Record<string, Record<string, unknown>>;
  const section = (name: string) => {
    if (typeof mapping[name] !== 'object' || mapping[name] === null) mapping[name] = {};
    return mapping[name]!;
  };
  if (overrides.branchId !== undefined) section('sale').branchId = { value: overrides.branchId };
  if (overrides.currency !== undefined) section('sale').currency = { value: overrides.currency };
  if (overrides.saleIdPrefix !== undefined) section('receipt').saleIdPrefix = overrides.saleIdPrefix;
  if (overrides.timezone !== undefined) (mapping as Record<string, unknown>).timezone = overrides.timezone;
  return mapping;
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'required') return `${e.instancePath}/${e.params.missingProperty}: is required`;
  if (e.keyword === 'additionalProperties') {
    return `${e.instancePath}/${e.params.additionalProperty}: is not a field of a mapping`;
  }
  return `${e.instancePath || '/'}: ${e.message ?? e.keyword}`;
}
