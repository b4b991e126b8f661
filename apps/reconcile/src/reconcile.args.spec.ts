import { describe, expect, it } from 'vitest';
import { ArgsError, parseReconcileArgs, resolveRange } from './reconcile.args.js';

const NOW = new Date('2026-03-10T12:00:00Z');
const parse = (argv: string[]) => parseReconcileArgs(argv, NOW);

describe('reconcile arguments', () => {
  it('reads a date as that UTC midnight and an RFC 3339 instant exactly; --flag value and --flag=value alike', () => {
    const args = parse(['--from', '2026-03-01', '--to=2026-03-02T01:30:00+02:00', '--branch', 'b_1-x']);
    expect(args).toEqual({
      help: false,
      from: { kind: 'instant', at: new Date('2026-03-01T00:00:00Z') },
      to: { kind: 'instant', at: new Date('2026-03-01T23:30:00Z') },
      branchId: 'b_1-x',
      repair: false,
      json: false,
      everyMs: 300_000,
    });
    expect(parse(['--from', '2026-03-01', '--to', '2026-03-03', '--repair', '--json'])).toMatchObject({
      repair: true,
      json: true,
    });
  });

  it('reads now and now-<duration>, resolved at each run', () => {
    const args = parse(['--from', 'now-7d', '--to', 'now-5m', '--metrics-port', '9464', '--every', '1m']);
    expect(args).toMatchObject({
      from: { kind: 'now-minus', ms: 7 * 86_400_000 },
      to: { kind: 'now-minus', ms: 300_000 },
      metricsPort: 9464,
      everyMs: 60_000,
    });
    if (args.help) throw new Error('unreachable');
    expect(resolveRange(args, NOW)).toEqual({
      from: new Date('2026-03-03T12:00:00Z'),
      to: new Date('2026-03-10T11:55:00Z'),
    });
    expect(parse(['--from', '2026-03-01', '--to', 'now'])).toMatchObject({
      to: { kind: 'now-minus', ms: 0 },
    });
  });

  it('answers --help (and -h) whatever else is given', () => {
    expect(parse(['--help'])).toEqual({ help: true });
    expect(parse(['--from', 'x', '-h'])).toEqual({ help: true });
  });

  it.each([
    [[], /^--from: required; must be a date YYYY-MM-DD or RFC 3339 instant/],
    [['--from', '2026-03-01'], /^--to: required/],
    [
      ['--from', '2026-02-30', '--to', '2026-03-02'],
      /^--from: must be a date YYYY-MM-DD or RFC 3339 instant/,
    ],
    [
      ['--from', '01/03/2026', '--to', '2026-03-02'],
      /^--from: must be a date YYYY-MM-DD or RFC 3339 instant/,
    ],
    [['--from', '2026-03-01T10:00:00', '--to', '2026-03-02'], /^--from: must be a date/], // no offset
    [['--from', '2026-03-01T24:00:00Z', '--to', '2026-03-02'], /^--from: must be a date/],
    [['--from', '2026-03-01', '--to', 'now-3x'], /^--to: must be a date YYYY-MM-DD or RFC 3339 instant/],
    [['--from', '2026-03-02', '--to', '2026-03-01'], /^--to: must be after --from/],
    [['--from', '2026-03-01', '--to', '2026-03-01'], /^--to: must be after --from/],
    [['--from', 'now-1d', '--to', 'now-2d'], /^--to: must be after --from/],
    [['--from', '2026-03-01', '--to', '2026-03-02', '--branch', 'a.b'], /^--branch: must be 1-64 of/],
    [
      ['--from', '2026-03-01', '--to', '2026-03-02', '--metrics-port', '70000'],
      /^--metrics-port: must be an integer from 0 to 65535/,
    ],
    [
      ['--from', '2026-03-01', '--to', '2026-03-02', '--metrics-port', '-1'],
      /^--metrics-port: must be an integer from 0 to 65535/,
    ],
    [['--from', '2026-03-01', '--to', '2026-03-02', '--every', '1m'], /^--every: only with --metrics-port/],
    [
      ['--from', 'now-1d', '--to', 'now', '--metrics-port', '0', '--every', '10ms'],
      /^--every: must be at least 1s/,
    ],
    [
      ['--from', 'now-1d', '--to', 'now', '--metrics-port', '0', '--every', 'often'],
      /^--every: must be a duration/,
    ],
    [
      ['--from', 'now-1d', '--to', 'now', '--metrics-port', '0', '--repair'],
      /^--repair: not with --metrics-port/,
    ],
    [['--from', '2026-03-01', '--to', '2026-03-02', '--fix'], /^unknown flag --fix/],
    [['--from', '2026-03-01', '--to', '2026-03-02', 'extra'], /^unexpected argument extra/],
    [['--from', '2026-03-01', '--from', '2026-03-02'], /^--from: given twice/],
    [['--from', '--to', '2026-03-02'], /^--from: needs a value/],
    [['--from', '2026-03-01', '--to', '2026-03-02', '--json=yes'], /^--json: takes no value/],
  ])('refuses %j naming the flag and the rule', (argv, message) => {
    expect(() => parse(argv)).toThrow(ArgsError);
    expect(() => parse(argv)).toThrow(message);
  });
});
