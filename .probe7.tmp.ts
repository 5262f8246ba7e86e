import fs from 'node:fs';
import { readMatFile } from './src/io/mat.ts';
const good = fs.readFileSync('/tmp/h5t/base.mat');
const tryRead = async (p: string) => { try { const m = await readMatFile(p); return 'ok ' + [...m.keys()].join(','); } catch (e) { return (e as Error).message.slice(0, 120); } };
fs.writeFileSync('/tmp/h5t/g.mat', good);
console.log('good', await tryRead('/tmp/h5t/g.mat'));
let seed = 5; const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2**32; };
for (let i = 0; i < 40; i++) {
  const b = Buffer.from(good); b[512 + Math.floor(rnd() * (b.length - 512))] ^= 0xff;
  fs.writeFileSync(`/tmp/h5t/x${i}.mat`, b);
  const r = await tryRead(`/tmp/h5t/x${i}.mat`);
  const r2 = await tryRead('/tmp/h5t/g.mat');
  console.log(i, r, '| then good:', r2);
}
