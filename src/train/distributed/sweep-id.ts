/** The id of a sweep on the queue: a hash of its configuration (worker code: uses node:crypto). */
import { createHash } from 'node:crypto';
import type { SweepConfig } from '../sweep.ts';
import { sweepIdSource } from './payload.ts';

/** The first 16 hex digits of the SHA-256 of the sweep's canonical configuration (key order does not matter). */
export function sweepIdOf(config: SweepConfig): string {
  return createHash('sha256').update(sweepIdSource(config)).digest('hex').slice(0, 16);
}
