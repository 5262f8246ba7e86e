// The one number formatter: what each option promises, as properties over random numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatNumber, trimZeros } from '../../src/core/format.ts';

// below 1e300: a number near the largest double can round up past it (1.5e308 to one digit is 2e+308)
const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 }).filter((x) => x !== 0);

test('formatNumber reads back within half a unit of the last digit kept, in every trim mode', () => {
  fc.assert(
    fc.property(finite, fc.integer({ min: 1, max: 12 }), fc.constantFrom(false, true, 'fixed' as const), (x, digits, trim) => {
      const s = formatNumber(x, { digits, trim });
      const back = Number(s);
      assert.ok(Number.isFinite(back), s);
      assert.ok(Math.abs(back - x) <= 0.5 * 10 ** (1 - digits) * Math.abs(x) * (1 + 1e-12), `${x} -> ${s}`);
    }),
  );
});

test('notation switches at 1e-3 and expFrom; trimmed mantissas end in no zero; missing values and infinity', () => {
  fc.assert(
    fc.property(finite, fc.constantFrom(1e4, 1e5), (x, expFrom) => {
      const s = formatNumber(x, { expFrom });
      const a = Math.abs(x);
      assert.equal(s.includes('e'), a >= expFrom || a < 1e-3 || s.includes('e+'), `${x} -> ${s}`);
      const t = formatNumber(x, { trim: true });
      const mantissa = t.split('e')[0];
      if (mantissa.includes('.')) assert.ok(!mantissa.endsWith('0') && !mantissa.endsWith('.'), t);
    }),
  );
  assert.equal(formatNumber(null), '-');
  assert.equal(formatNumber(Number.NaN, { missing: '–' }), '–');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(Infinity, { infinity: ['∞', '-∞'] }), '∞');
  assert.equal(formatNumber(-Infinity, { infinity: ['∞', '-∞'] }), '-∞');
  assert.equal(formatNumber(1.2e-4, { trim: true }), '1.2e-4');
  assert.equal(formatNumber(0.5, { trim: 'fixed' }), '0.5');
  assert.equal(formatNumber(0.5), '0.500');
  assert.equal(trimZeros('1.2300'), '1.23');
  assert.equal(trimZeros('1.20e+4'), '1.20e+4');
});
