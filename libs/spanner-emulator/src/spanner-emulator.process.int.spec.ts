import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpannerEmulatorNotFoundError } from './emulator-binary.js';
import { accepts, SpannerEmulatorProcess } from './spanner-emulator.process.js';

describe('a Spanner emulator process', () => {
  let emulator: SpannerEmulatorProcess | undefined;
  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
  });

  it('listens on a free loopback port once started, survives a restart on the same port, and is gone after stop', async () => {
    emulator = await SpannerEmulatorProcess.start();
    expect(emulator.host).toBe(`127.0.0.1:${emulator.port}`);
    expect(await accepts(emulator.port)).toBe(true);
    const firstPid = emulator.pid;
    await emulator.restart();
    expect(emulator.pid).not.toBe(firstPid);
    expect(await accepts(emulator.port)).toBe(true);
    await emulator.stop();
    expect(await accepts(emulator.port)).toBe(false);
    await emulator.stop(); // twice is harmless
  });

  it('writes its output to the log file it is given', async () => {
    const logFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'spanner-emulator-')), 'emulator.log');
    emulator = await SpannerEmulatorProcess.start({ logFile });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(readFileSync(logFile, 'utf8')).toMatch(/Cloud Spanner emulator running|Server address/);
  });

  it('refuses to start a binary that is not there, naming it', async () => {
    await expect(SpannerEmulatorProcess.start({ binary: '/nowhere/emulator_main' })).rejects.toThrow(
      /\/nowhere\/emulator_main.*exited at start-up/,
    );
    expect(new SpannerEmulatorNotFoundError(['/a']).message).toContain('/a');
  });
});
