import { randomBytes } from 'node:crypto';
import { DEFAULT_NATS_URL, NatsClient } from '@tally/nats';
import { afterAll, describe, expect, it } from 'vitest';
import { runApplyCommand } from './apply-command.js';

// `npm run nats:apply` against the real NATS server, isolated by names of its own.
const id = randomBytes(4).toString('hex');
const url = process.env.NATS_URL || DEFAULT_NATS_URL;
const env = { NATS_URL: url, TALLY_STREAM: `T_${id}`, TALLY_SUBJECT_PREFIX: `t${id}` };

async function run(argv: string[], environment: Record<string, string> = env) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runApplyCommand({
    argv,
    env: environment,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

afterAll(async () => {
  const client = await NatsClient.connect({ url, name: 'tally-nats-int-test', reconnect: false });
  for (const stream of [env.TALLY_STREAM, `${env.TALLY_STREAM}_DLQ`]) {
    await client.jsm.streams.delete(stream).catch(() => undefined);
  }
  await client.close();
});

describe('npm run nats:apply', () => {
  it('with --dry-run prints what it would create and creates nothing', async () => {
    const dry = await run(['--dry-run']);
    expect(dry).toMatchObject({ code: 0, err: '' });
    expect(dry.out).toMatch(new RegExp(`^stream +T_${id} +would be created$`, 'm'));
    expect(dry.out).toMatch(new RegExp(`^consumer +T_${id}/writer-postgres +would be created$`, 'm'));
    expect((await run(['--dry-run'])).out).toContain('5 to change');
  });

  it('prints one line per stream and consumer: created, then unchanged, then updated with the field', async () => {
    const first = await run([]);
    expect(first.code).toBe(0);
    expect(first.out.split('\n').filter((line) => / created$/.test(line))).toHaveLength(5);

    const second = await run([]);
    expect(second.out.split('\n').filter((line) => / unchanged$/.test(line))).toHaveLength(5);

    const third = await run([], { ...env, TALLY_DUPLICATE_WINDOW: '30s' });
    expect(third.out).toMatch(
      new RegExp(`^stream +T_${id} +updated \\(duplicate_window: 2m -> 30s\\)$`, 'm'),
    );
  });

  it('exits non-zero naming the URL and how to start NATS when it is unreachable', async () => {
    const result = await run([], { ...env, NATS_URL: 'nats://127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.err).toContain('cannot connect to NATS at nats://127.0.0.1:1');
    expect(result.err).toContain('nats-server -js');
  });

  it('exits 2 on an unknown argument', async () => {
    expect((await run(['--force'])).code).toBe(2);
  });
});
