import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findSpannerEmulatorBinary } from '@tally/spanner-emulator';

/** The emulator binary the benchmark starts (SpannerEmulatorProcess finds the same one). */
export const EMULATOR_BIN = findSpannerEmulatorBinary() ?? 'emulator_main (not found)';
/** Its process name in /proc (what cpuWindow counts). */
export const EMULATOR_PROCESS = 'emulator_main';

/**
 * The emulator's version as the Cloud SDK installed it (the `cloud-spanner-emulator*` component
 * snapshot next to the binary's SDK), or 'unknown': the binary itself has no --version.
 */
export function emulatorVersion(bin: string = EMULATOR_BIN): string {
  const install = path.join(path.dirname(bin), '..', '..', '.install');
  try {
    for (const name of readdirSync(install).sort()) {
      if (!/^cloud-spanner-emulator.*\.snapshot\.json$/.test(name)) continue;
      const snapshot = JSON.parse(readFileSync(path.join(install, name), 'utf8')) as {
        components?: Array<{ id?: string; version?: { version_string?: string } }>;
      };
      const version = snapshot.components?.find((c) => c.id?.startsWith('cloud-spanner-emulator'))?.version
        ?.version_string;
      if (version) return version;
    }
  } catch {
    // Not an SDK layout.
  }
  return 'unknown';
}
