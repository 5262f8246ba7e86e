// Precision prelude for the f64 build (prepended to kernels.ts by scripts/build-wasm.mjs).
// AssemblyScript source, excluded from the project's tsc (see tsconfig.json).
type T = f64;
// @ts-ignore: decorator
@inline const LANES: i32 = 2;
// @ts-ignore: decorator
@inline function vsplat(x: T): v128 { return f64x2.splat(x); }
// @ts-ignore: decorator
@inline function vadd(a: v128, b: v128): v128 { return f64x2.add(a, b); }
// @ts-ignore: decorator
@inline function vmul(a: v128, b: v128): v128 { return f64x2.mul(a, b); }
// @ts-ignore: decorator
@inline function vsub(a: v128, b: v128): v128 { return f64x2.sub(a, b); }
// @ts-ignore: decorator
@inline function vlt(a: v128, b: v128): v128 { return f64x2.lt(a, b); }
// @ts-ignore: decorator
@inline function vgt(a: v128, b: v128): v128 { return f64x2.gt(a, b); }
/** a * b + c: fused (relaxed SIMD) in the FMA build, separate multiply and add otherwise. */
// @ts-ignore: decorator
@inline function vmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  else return f64x2.add(f64x2.mul(a, b), c);
}
// @ts-ignore: decorator
@inline function vhsum(a: v128): T {
  return f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
}
