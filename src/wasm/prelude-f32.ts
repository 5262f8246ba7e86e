// Precision prelude for the f32 build (prepended to kernels.ts by scripts/build-wasm.mjs).
// AssemblyScript source, excluded from the project's tsc (see tsconfig.json).
type T = f32;
// @ts-ignore: decorator
@inline const LANES: i32 = 4;
// @ts-ignore: decorator
@inline function vsplat(x: T): v128 { return f32x4.splat(x); }
// @ts-ignore: decorator
@inline function vadd(a: v128, b: v128): v128 { return f32x4.add(a, b); }
// @ts-ignore: decorator
@inline function vmul(a: v128, b: v128): v128 { return f32x4.mul(a, b); }
// @ts-ignore: decorator
@inline function vsub(a: v128, b: v128): v128 { return f32x4.sub(a, b); }
// @ts-ignore: decorator
@inline function vlt(a: v128, b: v128): v128 { return f32x4.lt(a, b); }
// @ts-ignore: decorator
@inline function vgt(a: v128, b: v128): v128 { return f32x4.gt(a, b); }
/** a * b + c: fused (relaxed SIMD) in the FMA build, separate multiply and add otherwise. */
// @ts-ignore: decorator
@inline function vmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  else return f32x4.add(f32x4.mul(a, b), c);
}
// @ts-ignore: decorator
@inline function vhsum(a: v128): T {
  return (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
}
