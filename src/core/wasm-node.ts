/**
 * Node-only companion of ./wasm.ts: Node 20 keeps relaxed SIMD (the FMA kernels) behind a V8 flag.
 * Import this only from Node code paths (CLI, benchmarks, tests); the browser bundle never does.
 */
import { setFlagsFromString } from 'node:v8';
import { resetWasmDetection, wasmSupport, type WasmSupport } from './wasm.ts';

let enabled = false;

/**
 * Turns on V8's relaxed SIMD (`--experimental-wasm-relaxed-simd`) so the FMA kernel variants
 * validate, then re-probes. Harmless where the engine already has it. Returns what is supported now.
 * The CLI calls it at start-up; a library user opts in by calling it once, before the first
 * training or prediction (kernels chosen before keep their variant). It sets a process-wide V8 flag,
 * which is why importing the library does not.
 *
 * @example
 * ```js
 * import { enableWasmFma, fitModel, generateCstrDataset } from 'iclrnn';
 * console.log(enableWasmFma().relaxedSimd); // true on Node 20+
 * const fit = fitModel(generateCstrDataset(), { kind: 'iclrnn', epochs: 5 });
 * console.log(fit.history.kernels); // { backend: 'wasm', precision: 'f32', fma: true }
 * ```
 */
export function enableWasmFma(): WasmSupport {
  if (!enabled) {
    enabled = true;
    if (!wasmSupport().relaxedSimd) {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
      resetWasmDetection();
    }
  }
  return wasmSupport();
}
