/**
 * The one number formatter of the package (CLI tables, certificate tables, HTML reports, the
 * dashboard): `digits` significant digits, exponent notation outside [1e-3, `expFrom`), and the
 * per-surface choices as options (trailing zeros kept for aligned tables or trimmed for labels,
 * how a missing value and infinity read).
 */

/** Options of {@link formatNumber}. */
export interface FormatOptions {
  /** Significant digits (default 3). */
  digits?: number;
  /** Smallest magnitude written in exponent notation (default 1e5). */
  expFrom?: number;
  /**
   * Trailing zeros: `false` keeps them (aligned tables); `true` drops them from the mantissa in both
   * notations (labels: `1.2e-4`, `0.5`); `'fixed'` drops them in fixed notation only, through the
   * shortest round-trip form of the rounded value (the dashboard). Default false.
   */
  trim?: boolean | 'fixed';
  /** What null, undefined and NaN read as (default '-'). */
  missing?: string;
  /** How +Infinity and -Infinity read (default: as the number formatting writes them). */
  infinity?: readonly [string, string];
}

/** Drops the trailing zeros (and a bare point) of a fixed-notation string; exponent forms are kept. */
export const trimZeros = (s: string): string => (s.includes('.') && !s.includes('e') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);

/** Formats a number (see the module comment). */
export function formatNumber(x: number | null | undefined, o: FormatOptions = {}): string {
  if (x === null || x === undefined || Number.isNaN(x)) return o.missing ?? '-';
  if (!Number.isFinite(x) && o.infinity) return x > 0 ? o.infinity[0] : o.infinity[1];
  if (x === 0) return '0';
  const digits = o.digits ?? 3, a = Math.abs(x);
  if (a >= (o.expFrom ?? 1e5) || a < 1e-3) {
    const s = x.toExponential(digits - 1);
    if (o.trim !== true) return s;
    const [m, e] = s.split('e');
    return `${trimZeros(m)}e${Number(e)}`;
  }
  const s = x.toPrecision(digits);
  return o.trim === 'fixed' ? String(+s) : o.trim ? trimZeros(s) : s;
}
