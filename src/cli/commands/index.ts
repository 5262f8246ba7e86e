/**
 * The registry of `iclrnn` commands: name, one-line description (for the top-level help) and a
 * loader that imports the command's module only when that command runs. Nothing registers itself by
 * being imported: `iclrnn --help` loads no command module at all, `iclrnn predict` loads only the
 * core commands (and, through them, no HDF5 or report code unless the input needs it).
 *
 * To add a command: export `registerX(program)` from its module and add an entry here. The
 * description must equal the one the module gives `.description(...)` (test/package/cli-registry
 * checks this).
 */
import type { Command } from 'commander';

/** Adds one or more subcommands (with their options and actions) to the program. */
export type RegisterCommands = (program: Command) => void;

/** One command of the top-level help, with the loader of the module that defines it. */
export interface CommandEntry {
  readonly name: string;
  readonly description: string;
  /** Imports the defining module and returns its register function. */
  readonly load: () => Promise<RegisterCommands>;
}

const core = async (): Promise<RegisterCommands> => (await import('./core.ts')).registerCore;

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'simulate', description: 'generate a data set from a simulated plant (cstr)', load: core },
  { name: 'train', description: 'train a model on a system', load: core },
  { name: 'eval', description: 'test MSE of a model on the test split of its system', load: core },
  { name: 'predict', description: 'predict output sequences for input sequences', load: core },
  {
    name: 'demo',
    description: 'generate CSTR data, train an ICLRNN for about a minute, evaluate and save it',
    load: core, // the demo imports its certificate, MPC and report steps when it runs (demo.ts)
  },
  {
    name: 'certify',
    description: 'prove input convexity and bound the Lipschitz constant (empirical, attack, certified global / domain / local)',
    load: async () => (await import('./certify.ts')).registerCertify,
  },
  {
    name: 'mpc',
    description: 'closed-loop Lyapunov MPC of the CSTR with a trained model or the first-principles ODE as predictor',
    load: async () => (await import('./mpc.ts')).registerMpc,
  },
  {
    name: 'import',
    description: 'import a Keras model (.keras v3 zip or legacy Keras 2 .h5) as an iclrnn model file',
    load: async () => (await import('./import.ts')).registerImport,
  },
  {
    name: 'sweep',
    description: 'train every model x noise (x seed), record test MSE, Lipschitz estimates and timings; resumable',
    load: async () => (await import('./sweep.ts')).registerSweep,
  },
  { name: 'worker', description: 'run the cells of distributed sweeps (`iclrnn sweep --queue URL`) from a Redis queue until stopped', load: async () => (await import('./worker.ts')).registerWorker },
  { name: 'study', description: 'closed-loop safety study of the CSTR LMPC on the real plant: many initial states, learned predictors, safety modes, noise', load: async () => (await import('./study.ts')).registerStudy },
  { name: 'dashboard', description: 'serve the browser dashboard (data, training, certificates, MPC, models) on loopback and print its URL', load: async () => (await import('./dashboard.ts')).registerDashboard },
];

/** The entry of a command name, if any. */
export function findCommand(name: string | undefined): CommandEntry | undefined {
  return name === undefined ? undefined : COMMANDS.find((c) => c.name === name);
}
