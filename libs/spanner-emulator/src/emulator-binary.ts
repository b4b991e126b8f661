import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the Cloud Spanner emulator's server binary (`emulator_main`) lives. The Debian/Ubuntu
 * package google-cloud-cli-spanner-emulator and `gcloud components install
 * cloud-spanner-emulator` both put it under the Cloud SDK's root, in
 * `bin/cloud_spanner_emulator/emulator_main`; the SDK root is /usr/lib/google-cloud-sdk for the
 * Debian package, elsewhere for other installs (found from the `gcloud` on the PATH).
 */
export const DEFAULT_SPANNER_EMULATOR_BIN =
  '/usr/lib/google-cloud-sdk/bin/cloud_spanner_emulator/emulator_main';

const SDK_RELATIVE_BIN = path.join('bin', 'cloud_spanner_emulator', 'emulator_main');
const SDK_ROOTS = ['/usr/lib/google-cloud-sdk', '/usr/share/google-cloud-sdk', '/opt/google-cloud-sdk'];

export interface FindEmulatorOptions {
  /** Environment to read SPANNER_EMULATOR_BIN and PATH from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** File test (default fs.existsSync); injectable for tests. */
  readonly exists?: (file: string) => boolean;
  /** Resolves symlinks (default fs.realpathSync); injectable for tests. */
  readonly realpath?: (file: string) => string;
}

/** The places looked at, in order: SPANNER_EMULATOR_BIN alone when set, else the SDK roots and the one of `gcloud` on the PATH. */
export function spannerEmulatorCandidates(options: FindEmulatorOptions = {}): string[] {
  const env = options.env ?? process.env;
  const explicit = env.SPANNER_EMULATOR_BIN;
  if (explicit) return [explicit];
  const exists = options.exists ?? existsSync;
  const realpath = options.realpath ?? realpathSync;
  const candidates = SDK_ROOTS.map((root) => path.join(root, SDK_RELATIVE_BIN));
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const gcloud = path.join(dir, 'gcloud');
    if (!exists(gcloud)) continue;
    try {
      // <sdk>/bin/gcloud, often reached through a symlink such as /usr/bin/gcloud.
      candidates.push(path.join(path.dirname(path.dirname(realpath(gcloud))), SDK_RELATIVE_BIN));
    } catch {
      // A dangling link: nothing to learn from it.
    }
  }
  return [...new Set(candidates)];
}

/**
 * The emulator binary, or undefined when it is not installed. SPANNER_EMULATOR_BIN, when set,
 * is the only place looked at (a wrong value is then reported, not silently replaced).
 */
export function findSpannerEmulatorBinary(options: FindEmulatorOptions = {}): string | undefined {
  const exists = options.exists ?? existsSync;
  return spannerEmulatorCandidates(options).find((file) => exists(file));
}

/** Why no emulator could be started: names where it was looked for and how to install it. */
export class SpannerEmulatorNotFoundError extends Error {
  override readonly name = 'SpannerEmulatorNotFoundError';

  constructor(readonly lookedAt: readonly string[]) {
    super(
      `no Cloud Spanner emulator at ${lookedAt.join(', ')}: install it (Debian/Ubuntu: apt-get install ` +
        'google-cloud-cli-spanner-emulator; or gcloud components install cloud-spanner-emulator) or set ' +
        'SPANNER_EMULATOR_BIN to its emulator_main',
    );
  }
}
