/** Entry of a data-parallel training thread (see training-threads.ts and ../data-parallel.ts). */
import { workerData } from 'node:worker_threads';
import { runGradientThread, type GradientThreadInit } from '../data-parallel.ts';

if (workerData) runGradientThread(workerData as GradientThreadInit);
