/** Real-time MPC: dense QP/SQP solvers, predictors with exact gradients, the MPC, closed loop, the CSTR LMPC. */
export * from './qp.ts';
export * from './nlp.ts';
export * from './predictors.ts';
export * from './mpc.ts';
export * from './closed-loop.ts';
export * from './cstr-lmpc.ts';
export * from './robust.ts';
export * from './study.ts';
