import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SPANNER_EMULATOR_BIN,
  findSpannerEmulatorBinary,
  SpannerEmulatorNotFoundError,
  spannerEmulatorCandidates,
} from './emulator-binary.js';

const only =
  (...files: string[]) =>
  (file: string) =>
    files.includes(file);

describe('finding the Spanner emulator binary', () => {
  it('finds the Debian package location when nothing is set', () => {
    expect(findSpannerEmulatorBinary({ env: { PATH: '' }, exists: only(DEFAULT_SPANNER_EMULATOR_BIN) })).toBe(
      DEFAULT_SPANNER_EMULATOR_BIN,
    );
  });

  it('finds an SDK installed elsewhere through the gcloud on the PATH (followed through its symlink)', () => {
    const bin = '/home/me/google-cloud-sdk/bin/cloud_spanner_emulator/emulator_main';
    expect(
      findSpannerEmulatorBinary({
        env: { PATH: '/usr/local/bin:/home/me/bin' },
        exists: only('/home/me/bin/gcloud', bin),
        realpath: (file) => (file === '/home/me/bin/gcloud' ? '/home/me/google-cloud-sdk/bin/gcloud' : file),
      }),
    ).toBe(bin);
  });

  it('looks only at SPANNER_EMULATOR_BIN when it is set, and reports it missing rather than falling back', () => {
    const options = {
      env: { SPANNER_EMULATOR_BIN: '/nowhere/emulator_main', PATH: '' },
      exists: only(DEFAULT_SPANNER_EMULATOR_BIN),
    };
    expect(spannerEmulatorCandidates(options)).toEqual(['/nowhere/emulator_main']);
    expect(findSpannerEmulatorBinary(options)).toBeUndefined();
  });

  it('answers undefined when it is not installed, and the error names where it looked and the package', () => {
    const options = { env: { PATH: '/usr/bin' }, exists: only() };
    expect(findSpannerEmulatorBinary(options)).toBeUndefined();
    const error = new SpannerEmulatorNotFoundError(spannerEmulatorCandidates(options));
    expect(error.message).toContain(DEFAULT_SPANNER_EMULATOR_BIN);
    expect(error.message).toContain('google-cloud-cli-spanner-emulator');
    expect(error.message).toContain('SPANNER_EMULATOR_BIN');
  });
});
