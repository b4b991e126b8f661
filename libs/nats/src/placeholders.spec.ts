// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} here is placeholder syntax under test, not a template.
import { describe, expect, it } from 'vitest';
import { expandPlaceholders } from './placeholders.js';

describe('expandPlaceholders', () => {
  it('uses the default when the variable is unset', () => {
    expect(expandPlaceholders('{"name":"${TALLY_STREAM:-SALES}"}', {})).toBe('{"name":"SALES"}');
  });

  it('uses the default when the variable is empty, as the shell does', () => {
    expect(expandPlaceholders('${TALLY_STREAM:-SALES}', { TALLY_STREAM: '' })).toBe('SALES');
  });

  it('takes the environment over the default', () => {
    expect(expandPlaceholders('${TALLY_STREAM:-SALES}', { TALLY_STREAM: 'STAGING' })).toBe('STAGING');
  });

  it('takes overrides over the environment', () => {
    expect(
      expandPlaceholders('${TALLY_STREAM:-SALES}', { TALLY_STREAM: 'ENV' }, { TALLY_STREAM: 'T_1' }),
    ).toBe('T_1');
  });

  it('expands several placeholders and accepts an empty default', () => {
    expect(expandPlaceholders('${A:-x}.${B:-}.${C}', { C: 'c' })).toBe('x..c');
  });

  it('refuses a placeholder without default whose variable is unset, naming it', () => {
    expect(() => expandPlaceholders('"${TALLY_MISSING}"', {})).toThrow(/\$\{TALLY_MISSING\} is not set/);
  });

  it('escapes values so they cannot break the JSON they are inserted into', () => {
    const text = expandPlaceholders('{"description":"${D}"}', { D: 'say "hi"\\ \n' });
    expect(JSON.parse(text)).toEqual({ description: 'say "hi"\\ \n' });
  });

  it('leaves text without placeholders, and a lone $, alone', () => {
    expect(expandPlaceholders('{"a":"$5 ${"}', {})).toBe('{"a":"$5 ${"}');
  });
});
