/** Human-readable rendering of a {@link CertificateReport} (the `iclrnn certify` table). */
import type { CertificateReport } from './certify.ts';
import { formatNumber } from '../core/format.ts';

const f = (x: number | null | undefined, digits = 4): string => formatNumber(x, { digits });

/**
 * Formats a certificate report as an aligned plain-text table.
 *
 * @example
 * ```ts
 * console.log(formatCertificate(certify(model, { steps: 10 }), 'iclrnn.json'));
 * ```
 */
export function formatCertificate(r: CertificateReport, title = 'certificate'): string {
  const L = r.lipschitz, D = L.details;
  const s = r.convexity.structural, num = r.convexity.numerical;
  const lines: string[] = [];
  lines.push(`${title}: ${r.model.kind}, ${r.model.layers} x ${r.model.units.join('/')} units, ${r.model.parameters} parameters, ${r.steps} steps`);
  lines.push(`  space: ${r.space}`);
  lines.push(`  norm:  ${r.norm}`);
  lines.push('');
  lines.push(`  convexity (structural proof)   ${s.convex ? 'PROVEN: every output is convex in the input sequence' : 'NOT PROVEN'}`);
  if (!s.convex) for (const reason of s.reasons.slice(0, 8)) lines.push(`    - ${reason.message}${reason.kind === 'negative-weight' && reason.count > 1 ? ` (${reason.count} such entries)` : ''}`);
  if (num)
    lines.push(`  convexity (Jensen, ${num.segments} segments)   worst violation ${f(num.worstViolation, 3)} (tolerance ${f(num.tolerance, 2)}): ${num.convex ? 'none found' : `${num.violations} violating segments`}`);
  lines.push('');
  const row = (name: string, value: string, note: string) => lines.push(`  ${name.padEnd(30)} ${value.padStart(12)}   ${note}`);
  row('Lipschitz', 'value', 'what it is');
  row('empirical (reference)', f(L.empirical), `lower estimate, ${D.reference.samples} samples (${D.reference.source}), eps ${D.reference.eps}`);
  row('attack', f(L.attack), D.attack ? `lower bound, ${D.attack.evaluations} evaluations, ${f(D.attack.seconds, 3)} s` : 'skipped');
  const g = D.global;
  row('upper bound (certified, global)', f(L.upperBound), L.upperBound === null ? `none: ${L.upperBoundReason}` : `${g.method}; product ${f(g.product)}, unrolled ${f(g.unrolled)}, recurrent ${f(g.recurrent)}; ${f(g.seconds, 3)} s`);
  if (L.upperBound !== null && L.attack) row('  gap upper / attack', f(L.upperBound / L.attack), '1 = tight');
  if (D.domain && L.domain === null) row(`domain [${D.domain.low}, ${D.domain.high}] (certified)`, '-', `none: ${D.domain.reason}`);
  else if (D.domain) row(`domain [${D.domain.low}, ${D.domain.high}] (certified)`, f(L.domain), `${D.domain.method ?? 'none'}; ReLU sites active/inactive/unstable ${D.domain.sites.reluActive}/${D.domain.sites.reluInactive}/${D.domain.sites.reluUnstable}; ${f(D.domain.seconds, 3)} s`);
  if (D.local)
    row(`local r=${D.local.radius} (certified)`, f(L.local), L.local === null ? `none: ${D.local.reason}` : `${D.local.method}; attack in box ${f(D.local.attack)}; unstable ReLU sites ${D.local.sites.reluUnstable}; ${f(D.local.seconds, 3)} s`);
  else row('local (certified)', '-', 'pass a centre and radius (--local-input FILE --radius R)');
  lines.push(`  total ${f(r.seconds, 3)} s`);
  return lines.join('\n');
}
