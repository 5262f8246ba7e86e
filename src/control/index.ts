/** Real-time MPC: dense QP/SQP solvers, predictors with exact gradients, the MPC, closed loop, robust (tightened) LMPC pieces. The CSTR LMPC and study live in src/apps. */
export * from './qp.ts';
export * from './nlp.ts';
export * from './predictors.ts';
export * from './mpc.ts';
export * from './closed-loop.ts';
export * from './robust.ts';
