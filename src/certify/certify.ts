/**
 * `certify(model, options)`: convexity and Lipschitz certificates of a sequence model in one typed
 * report.
 *
 * **Space and norm of every Lipschitz number.** The map certified is
 * `f: x in R^{T x n} -> y in R^{T x m}` from the model's *scaled, un-augmented* input sequence (the
 * space of `iclrnn predict --scaled`; the `[x, offset - x]` augmentation is part of f) to its scaled
 * output sequence, with the Euclidean (l2) norm over the whole sequence (all T steps and features
 * flattened), for a fixed sequence length T (`steps`). `||f(x') - f(x)||_2 <= L ||x' - x||_2`.
 *
 * - `empirical`: the reference's estimate (random perturbations in [eps/4, eps], eps 1e-4), a lower
 *   bound only.
 * - `attack`: gradient ascent on the ratio from many starts: the best lower bound found.
 * - `upperBound` (certified, global: x, x' anywhere in R^{T x n}): the minimum of
 *   (a) the product/recurrence bound of certified spectral norms (product.ts),
 *   (b) the unrolled secant-Jacobian enclosure (propagate.ts, all activation slopes in their global
 *       ranges) and
 *   (c) the finite-horizon dissipation certificate on the step LFR (lfr.ts).
 *   Null, with a reason, when the map is not globally Lipschitz (ICLSTM).
 * - `domain` (certified on the input domain box, default [0, 1]^{T x n}): the same bounds with the
 *   slope ranges the domain allows.
 * - `local` (certified on the l_inf box of radius r around a given sequence): the same machinery with
 *   the slope / value ranges of that box (interval, linear and zonotope bound propagation), capped
 *   by the global bound (and by the domain bound when the box lies in the domain).
 *
 * What "certified" covers: every bound holds for the real-arithmetic network with the weights it
 * holds; spectral norms are rigorous including rounding (spectral.ts); bound propagation widens
 * its sums by the standard rounding-error bound; the LFR inequalities are required with a relative
 * slack of 1e-9 (far above the ~1e-13 rounding of the computations). Convexity: `convex` is the
 * structural proof (convexity.ts); the Jensen check only looks for counterexamples.
 */
import type { SequenceModel } from '../nn/model.ts';
import type { ModelMetadata } from '../nn/scaled-model.ts';
import { structuralConvexity, type StructuralConvexity } from './convexity.ts';
import { jensenCheck, lipschitzAttack, referenceEstimate, type AttackResult, type JensenResult, type ReferenceEstimate } from './empirical.ts';
import { propagateModel, type InputBox, type PropagationResult, type SiteStats } from './propagate.ts';
import { productBound, type MatrixNorm } from './product.ts';
import { buildStepLfr, lfrBound, type StepLfr } from './lfr.ts';
import { certifiedNorm } from '../core/spectral.ts';
import { ValidationError } from '../core/errors.ts';

/** The norm and space every Lipschitz number of the report refers to. */
export const CERTIFIED_SPACE =
  "scaled, un-augmented input sequence (steps x inputSize, the space of 'iclrnn predict --scaled') -> scaled output sequence (steps x outputSize)";
/** The norm of the report. */
export const CERTIFIED_NORM = 'l2 over the whole sequence (all steps and features flattened), both sides';

/** Options of {@link certify}. */
export interface CertifyOptions {
  /** Sequence length T the bounds are for (default: from the model file metadata, else 10). */
  steps?: number;
  /** Seed of every random choice (default 0). */
  seed?: number;
  /**
   * Inputs for the reference's empirical protocol (scaled, batch-major, `count * steps * inputSize`).
   * Default: `sampleCount` seeded uniform draws in the domain.
   */
  samples?: Float64Array;
  /** Label of where the samples come from, for the report (default 'random' or 'given'). */
  samplesSource?: string;
  sampleCount?: number;
  /** Input domain (scaled), default [0, 1] per coordinate. */
  domain?: { low: number; high: number };
  /** Attack effort, or false to skip (default 32 starts x 80 iterations). */
  attack?: { starts?: number; iterations?: number } | false;
  /** Numerical Jensen check, or false to skip (default 2000 segments). */
  jensen?: { segments?: number } | false;
  /** Local certificate on the l_inf box of radius `radius` around `center` (scaled, steps x inputSize). */
  local?: { center: Float64Array; radius: number } | null;
  /** Certify the domain box too (default true). */
  domainBound?: boolean;
  /**
   * Use the LFR dissipation certificate (default true; it is the slowest part): `true`, `false`,
   * or the scopes to run it for.
   */
  lfr?: boolean | ('global' | 'domain' | 'local')[];
  /**
   * Largest LFR step problem (variables) solved per scope (defaults: global 520, domain 520, local
   * 600: a 2 x 64 LSTM is certified layer by layer locally, skipped globally, where the slope
   * relaxation of its gates is hopeless anyway).
   */
  lfrMaxSize?: { global?: number; domain?: number; local?: number };
  /** Relative precision of the LFR bisection (default 1e-2). */
  tolerance?: number;
}

/** A certified bound with its pieces. */
export interface BoundDetail {
  /** The certified value (min of the components), or null. */
  value: number | null;
  reason: string | null;
  /** Component bounds (null when not applicable). */
  product: number | null;
  unrolled: number | null;
  recurrent: number | null;
  /**
   * Which component gave the value (`global`: a cap inherited from a larger set, i.e. the global
   * bound, or for a local box inside the domain the domain bound).
   */
  method: 'product' | 'unrolled' | 'recurrent' | 'global' | null;
  /** Why the recurrent (LFR) component is missing or not better, when it is. */
  recurrentNote: string | null;
  /** Activation sites the bound propagation proved stable. */
  sites: SiteStats;
  seconds: number;
}

/** The report of {@link certify}. */
export interface CertificateReport {
  model: { kind: string; inputSize: number; outputSize: number; layers: number; units: number[]; parameters: number };
  steps: number;
  space: string;
  norm: string;
  /** Structural proof that every output is convex in the input sequence. */
  convex: boolean;
  convexity: { structural: StructuralConvexity; numerical: JensenResult | null };
  lipschitz: {
    /** Reference protocol estimate (lower bound). */
    empirical: number;
    /** Best ratio found by the attack (lower bound), null when skipped. */
    attack: number | null;
    /** Certified global bound, null when none exists / was found (see upperBoundReason). */
    upperBound: number | null;
    upperBoundReason: string | null;
    /** Certified bound on the local box, null when no box was given. */
    local: number | null;
    /** Certified bound on the input domain box, null when skipped. */
    domain: number | null;
    details: {
      reference: ReferenceEstimate & { source: string };
      attack: (Omit<AttackResult, 'x' | 'xPrime'> & { seconds: number }) | null;
      global: BoundDetail;
      domain: (BoundDetail & { low: number; high: number; attack: number | null }) | null;
      local: (BoundDetail & { radius: number; attack: number | null }) | null;
      norms: MatrixNorm[];
    };
  };
  seconds: number;
}

/** Sequence length a model was trained on, from its file metadata (CSTR 10, energy 5, window). */
export function defaultSteps(metadata: ModelMetadata | undefined | null, fallback = 10): number {
  const data = (metadata?.data ?? {}) as Record<string, unknown>;
  if (typeof data.window === 'number' && Number.isInteger(data.window) && data.window > 0) return data.window;
  const system = (metadata?.system ?? data.system) as string | undefined;
  if (system === 'cstr') return 10;
  if (system === 'energy') return 5;
  return fallback;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** Norm bound from a midpoint-radius Jacobian enclosure: min(||Jc|| + ||Jr||, || |Jc| + Jr ||). */
export function enclosureNorm(J: { C: Float64Array; R: Float64Array }, rows: number, cols: number): number {
  for (let i = 0; i < J.C.length; i++) if (!Number.isFinite(J.C[i]) || !Number.isFinite(J.R[i])) return Infinity;
  const a = certifiedNorm(J.C, rows, cols).upper + certifiedNorm(J.R, rows, cols).upper;
  const abs = new Float64Array(J.C.length);
  for (let i = 0; i < abs.length; i++) abs[i] = Math.abs(J.C[i]) + J.R[i];
  const b = certifiedNorm(abs, rows, cols).upper;
  return Math.min(a, b) * (1 + 1e-12);
}

function boxBound(
  model: SequenceModel, steps: number, box: InputBox, lowerBound: number, useLfr: boolean, tolerance: number, cap: number | null, productValue: number | null,
  precomputed?: PropagationResult, lfrMaxSize = 520, stepLfr?: () => StepLfr | undefined,
): { detail: BoundDetail; prop: PropagationResult } {
  const t0 = now();
  const prop = precomputed ?? propagateModel(model, steps, box);
  const rows = steps * model.outputSize, cols = steps * model.inputSize;
  const unrolledRaw = enclosureNorm(prop.jacobian, rows, cols);
  const unrolled = Number.isFinite(unrolledRaw) ? unrolledRaw : null;
  let recurrent: number | null = null;
  let reason: string | null = null;
  let recurrentNote: string | null = useLfr ? null : 'disabled';
  const candidates = [unrolled, productValue, cap].filter((v): v is number => v !== null && Number.isFinite(v));
  const best0 = candidates.length ? Math.min(...candidates) : null;
  if (useLfr) {
    const r = lfrBound(model, prop, { lo: Math.max(lowerBound, 1e-300), hi: best0 ?? Math.max(1, lowerBound * 4), tolerance, maxGamma: best0 ?? 1e12, maxSize: lfrMaxSize, stepLfr: stepLfr?.() });
    recurrent = r.value;
    if (r.value === null) {
      reason = r.reason;
      recurrentNote = r.reason;
    }
  }
  const comps: [BoundDetail['method'], number | null][] = [['product', productValue], ['unrolled', unrolled], ['recurrent', recurrent], ['global', cap]];
  let value: number | null = null, method: BoundDetail['method'] = null;
  for (const [m, v] of comps) if (v !== null && Number.isFinite(v) && (value === null || v < value)) {
    value = v;
    method = m;
  }
  if (value === null) reason = reason ?? 'no finite bound: the slope or value ranges are unbounded';
  else reason = null;
  return { detail: { value, reason, product: productValue, unrolled, recurrent, method, recurrentNote, sites: prop.stats, seconds: (now() - t0) / 1000 }, prop };
}

/**
 * Certifies a model: structural convexity (+ numerical Jensen check), the reference's empirical
 * Lipschitz estimate, an attack (lower bound), the certified global upper bound, the certified
 * bound on the input domain and, when `local` is given, the certified local bound. See the module
 * comment for what each number proves and in which norm and space.
 * @param modelOrStored a SequenceModel, or a stored model (`loadModel`) whose metadata gives the
 *   default sequence length
 * @param metadata model-file metadata (overrides the stored model's), used for the default `steps`
 *
 * @example
 * ```ts
 * const fit = fitModel(generateCstrDataset(), { kind: 'iclrnn', hidden: 16, layers: 1, epochs: 5, seed: 0 });
 * const report = certify(fit.model, { steps: 10 });
 * console.log(report.convex, report.lipschitz.attack, report.lipschitz.upperBound);
 * ```
 */
export function certify(
  modelOrStored: SequenceModel | { model: SequenceModel; metadata?: ModelMetadata },
  options: CertifyOptions = {},
  metadata?: ModelMetadata | null,
): CertificateReport {
  const t0 = now();
  const model: SequenceModel = 'cells' in modelOrStored ? modelOrStored : modelOrStored.model;
  if (!('cells' in modelOrStored)) metadata = metadata ?? modelOrStored.metadata ?? null;
  const steps = options.steps ?? defaultSteps(metadata);
  if (!Number.isInteger(steps) || steps < 1) throw new ValidationError(`certify: steps must be a positive integer, got ${steps}`);
  const n = model.inputSize, m = model.outputSize, d = steps * n;
  const seed = options.seed ?? 0;
  const low = options.domain?.low ?? 0, high = options.domain?.high ?? 1;
  if (!(high > low)) throw new ValidationError(`certify: domain high (${high}) must exceed low (${low})`);
  const tolerance = options.tolerance ?? 1e-2;
  const lfrOpt = options.lfr ?? true;
  const useLfr = (scope: 'global' | 'domain' | 'local') => (Array.isArray(lfrOpt) ? lfrOpt.includes(scope) : lfrOpt);
  // convexity
  const structural = structuralConvexity(model, steps);
  const numerical = options.jensen === false ? null : jensenCheck(model, { steps, segments: options.jensen?.segments, seed, low, high });
  // empirical
  const reference = referenceEstimate(model, { steps, samples: options.samples, count: options.sampleCount, seed, low, high });
  let attack: CertificateReport['lipschitz']['details']['attack'] = null;
  if (options.attack !== false) {
    const ta = now();
    const a = lipschitzAttack(model, { steps, starts: options.attack?.starts, iterations: options.attack?.iterations, seed, low, high });
    attack = { value: a.value, evaluations: a.evaluations, seconds: (now() - ta) / 1000 };
  }
  const lower = Math.max(reference.value, attack?.value ?? 0);
  // one step LFR for every scope (built on first use; lfrBound reports a model it cannot build)
  let stepLfr: StepLfr | undefined, lfrTried = false;
  const sharedLfr = () => {
    if (!lfrTried) {
      lfrTried = true;
      try {
        stepLfr = buildStepLfr(model);
      } catch {
        stepLfr = undefined;
      }
    }
    return stepLfr;
  };
  // global
  const tg = now();
  const globalBox = { center: new Float64Array(d).fill(0.5 * (low + high)), radius: new Float64Array(d).fill(Infinity) };
  const globalProp = propagateModel(model, steps, globalBox);
  const prod = productBound(model, steps);
  const g = boxBound(model, steps, globalBox, lower, useLfr('global'), tolerance, null, prod.value, globalProp, options.lfrMaxSize?.global ?? 520, sharedLfr);
  g.detail.seconds = (now() - tg) / 1000;
  if (g.detail.value === null) g.detail.reason = prod.reason ?? g.detail.reason;
  const upper = g.detail.value;
  // domain
  let domain: CertificateReport['lipschitz']['details']['domain'] = null;
  if (options.domainBound ?? true) {
    const box = { center: new Float64Array(d).fill(0.5 * (low + high)), radius: new Float64Array(d).fill(0.5 * (high - low)) };
    const b = boxBound(model, steps, box, 0, useLfr('domain'), tolerance, upper, null, undefined, options.lfrMaxSize?.domain ?? 520, sharedLfr);
    domain = { ...b.detail, low, high, attack: null };
  }
  // local
  let local: CertificateReport['lipschitz']['details']['local'] = null;
  if (options.local) {
    const { center, radius } = options.local;
    if (center.length !== d) throw new ValidationError(`certify: local centre has ${center.length} values, expected steps * inputSize = ${d}`);
    if (!(radius >= 0) || !Number.isFinite(radius)) throw new ValidationError(`certify: local radius must be a finite number >= 0, got ${radius}`);
    const box = { center: Float64Array.from(center), radius: new Float64Array(d).fill(radius) };
    let la: number | null = null;
    if (options.attack !== false && radius > 0) {
      la = lipschitzAttack(model, { steps, starts: Math.min(16, options.attack?.starts ?? 16), iterations: Math.min(60, options.attack?.iterations ?? 60), seed, box }).value;
    }
    // a domain bound applies when the box lies inside the domain
    let cap = upper;
    let inside = true;
    for (let p = 0; p < d; p++) if (center[p] - radius < low || center[p] + radius > high) inside = false;
    if (inside && domain?.value !== null && domain?.value !== undefined) cap = cap === null ? domain.value : Math.min(cap, domain.value);
    const b = boxBound(model, steps, box, 0, useLfr('local'), tolerance, cap, null, undefined, options.lfrMaxSize?.local ?? 600, sharedLfr);
    local = { ...b.detail, radius, attack: la };
  }
  return report(model, steps, structural, numerical, reference, attack, g.detail, domain, local, prod.norms, options, low, high, t0);
}

type Details = CertificateReport['lipschitz']['details'];

/** Assembles the report from its parts. */
function report(
  model: SequenceModel, steps: number, structural: StructuralConvexity, numerical: JensenResult | null, reference: ReferenceEstimate, attack: Details['attack'],
  global: BoundDetail, domain: Details['domain'], local: Details['local'], norms: MatrixNorm[], options: CertifyOptions, low: number, high: number, t0: number,
): CertificateReport {
  const n = model.inputSize, m = model.outputSize, upper = global.value;
  const units = model.cells.map((c) => c.units);
  return {
    model: { kind: model.spec.kind, inputSize: n, outputSize: m, layers: model.cells.length, units, parameters: model.parameterCount() },
    steps,
    space: CERTIFIED_SPACE,
    norm: CERTIFIED_NORM,
    convex: structural.convex,
    convexity: { structural, numerical },
    lipschitz: {
      empirical: reference.value,
      attack: attack?.value ?? null,
      upperBound: upper,
      upperBoundReason: upper === null ? global.reason : null,
      local: local?.value ?? null,
      domain: domain?.value ?? null,
      details: {
        reference: { ...reference, source: options.samplesSource ?? (options.samples ? 'given' : `random uniform [${low}, ${high}]`) },
        attack,
        global,
        domain,
        local,
        norms,
      },
    },
    seconds: (now() - t0) / 1000,
  };
}
