/**
 * The convexity certificate from the cell-program convexity interpreter (`convexityOf` in
 * src/interp): its issues translated into the certificate's {@link ConvexityReason}s
 * (`structuralConvexity` in convexity.ts is this verdict). The Lipschitz bounds of every model are
 * interpreters over the same programs too: the norm-product gain (product.ts), the bound
 * propagation (propagate.ts) and the step LFR (lfr-build.ts).
 */
import type { SequenceModel } from '../nn/model.ts';
import { programStack } from '../nn/program-stack.ts';
import { convexityOf, type ConvexityIssue } from '../interp/convexity.ts';
import type { ProgramStack } from '../interp/bind.ts';
import type { ConvexityReason, StructuralConvexity } from './convexity.ts';

/** `cells.i` / `head.j`: the model's name of stack layer `li`. */
export function layerPath(model: SequenceModel, li: number): string {
  const ref = model.order[li];
  return ref.type === 'cell' ? `cells.${ref.index}` : `head.${ref.index}`;
}

function reasonOf(model: SequenceModel, stack: ProgramStack, issue: ConvexityIssue): ConvexityReason {
  const layer = layerPath(model, issue.layer);
  const node = stack.layers[issue.layer].program.nodes[issue.node];
  const message = `${layer}: ${issue.message}`;
  switch (issue.kind) {
    case 'sign': {
      const [r, c] = issue.index ?? [0, 0];
      const p = stack.layers[issue.layer].program.params.find((q) => q.name === issue.matrix);
      return {
        kind: 'negative-weight',
        layer,
        parameter: `${layer}.${issue.matrix ?? '?'}`,
        index: [r, c],
        flatIndex: p ? r * p.cols + c : r,
        value: issue.value ?? NaN,
        count: 1,
        message,
      };
    }
    case 'activation':
      return { kind: 'activation', layer, activation: node.op === 'act' ? node.fn : node.op, message };
    case 'product':
      return { kind: 'product', layer, operation: node.op, step: issue.step, unit: issue.entry, message };
    default:
      return { kind: 'unsupported', layer, message };
  }
}

/** The structural convexity verdict of the convexity interpreter, in the certificate's terms. */
export function programConvexity(model: SequenceModel, steps: number): StructuralConvexity {
  const stack = programStack(model);
  const r = convexityOf(stack, steps, { monotonicity: false });
  const notes = [
    'proved by the cell-program convexity interpreter (composition rules of convex analysis, one per primitive)',
    model.spec.augmentation ? 'the input is augmented as [x, offset - x] (affine in x)' : 'no [x, -x] augmentation: a convex model is then also non-decreasing in x',
  ];
  // one reason per parameter with entries of the wrong sign: its first entry (row-major) and how many
  const reasons: ConvexityReason[] = [];
  const bySign = new Map<string, { reason: Extract<ConvexityReason, { kind: 'negative-weight' }>; entries: Set<number> }>();
  for (const issue of r.issues) {
    const reason = reasonOf(model, stack, issue);
    if (reason.kind !== 'negative-weight') {
      reasons.push(reason);
      continue;
    }
    const seen = bySign.get(reason.parameter);
    if (!seen) {
      const entry = { reason, entries: new Set([reason.flatIndex]) };
      bySign.set(reason.parameter, entry);
      reasons.push(reason);
    } else {
      seen.entries.add(reason.flatIndex);
      if (reason.flatIndex < seen.reason.flatIndex) Object.assign(seen.reason, { ...reason, count: 0 });
    }
  }
  for (const { reason, entries } of bySign.values()) reason.count = entries.size;
  return { convex: r.convex, outputs: r.outputs, reasons, augmentation: model.spec.augmentation !== null, steps, notes };
}
