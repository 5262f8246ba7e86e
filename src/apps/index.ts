/** The applications over the library: the CSTR Lyapunov MPC (nominal and safe) and the closed-loop study; re-exports the control layer for convenience. */
export * from '../control/index.ts';
export * from './cstr-lmpc.ts';
export * from './cstr-study.ts';
