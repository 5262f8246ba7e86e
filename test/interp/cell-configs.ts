// Cell configs of the six families with hand-written cells, shared by the interpreter tests.
import type { CellConfig } from '../../src/nn/cell.ts';

const nn = { type: 'nonNegative' } as const;
const spectral = { type: 'spectral', k: 1, eps: 1e-3, mode: 'projection', nonNegative: true, iterations: 10, tolerance: 1e-3 } as const;

/** The six families with hand-written cells (configs as the model builders make them). */
export function handWrittenConfigs(nin: number, u: number): CellConfig[] {
  return [
    { type: 'simple', inputSize: nin, units: u, activation: 'tanh' },
    { type: 'simple', inputSize: nin, units: u, activation: 'relu', constraints: { kernel: spectral, recurrentKernel: spectral } },
    { type: 'lstm', inputSize: nin, units: u },
    { type: 'lipschitz', inputSize: nin, units: u, eps: 0.3, gamma: 0.05, beta: 0.7, alpha: 1.5 },
    { type: 'icrnn', inputSize: nin, units: u, constraints: { kernel: nn, recurrentKernel: nn, D1: nn, D2: nn, D3: nn, V: nn } },
    { type: 'iclstm', inputSize: nin, units: u, constraints: { kernel: nn, recurrentKernel: nn, kernelScale: nn, recurrentScale: nn } },
  ];
}

