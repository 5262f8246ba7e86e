// Optional command modules register themselves here (one import line each).
export {};
import './import.ts';
import './sweep.ts';
import './mpc.ts';
import './certify.ts';
