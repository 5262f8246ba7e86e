import h5wasm from 'h5wasm/node';
import { unzipSync } from 'fflate';
import { readFileSync, writeFileSync } from 'node:fs';
await h5wasm.ready;
const base = '/work/shared/fixtures/keras/';
type M = { r: number; c: number; d: Float64Array };
function loadVars(name: string) {
  const z = unzipSync(readFileSync(base + name + '/model.keras'));
  writeFileSync('/tmp/kx/w.h5', z['model.weights.h5']);
  const f = new h5wasm.File('/tmp/kx/w.h5', 'r');
  const out: Record<string, M[]> = {};
  for (const k of f.keys()) {
    const g = f.get(k + '/vars') as any;
    if (!g) continue;
    const arr: M[] = [];
    for (const i of g.keys().sort((a: string, b: string) => +a - +b)) { const d = g.get(i); const s = d.shape; arr.push({ r: s.length === 2 ? s[0] : 1, c: s.length === 2 ? s[1] : (s[0] ?? 1), d: Float64Array.from(d.value) }); }
    out[k] = arr;
  }
  f.close();
  return out;
}
const mm = (x: number[], W: M) => { const y = new Array(W.c).fill(0); for (let i = 0; i < W.r; i++) for (let j = 0; j < W.c; j++) y[j] += x[i] * W.d[i * W.c + j]; return y; };
const add = (...v: number[][]) => v[0].map((_, i) => v.reduce((s, a) => s + a[i], 0));
const relu = (v: number[]) => v.map((a) => Math.max(0, a));
const elu = (v: number[]) => v.map((a) => (a > 0 ? a : Math.exp(a) - 1));
const U5 = [[16.1924166605767, 15.7693319267077], [12.7089419282799, 15.8620848191418], [19.2123670977839, 16.6224175456081], [19.7545179086773, 15.6579309584317], [18.41166950404, 14.6708919688226]];
const U5t = (() => { const flat = [16.1924166605767,12.7089419282799,19.2123670977839,19.7545179086773,18.41166950404,15.7693319267077,15.8620848191418,16.6224175456081,15.6579309584317,14.6708919688226]; return [0,1,2,3,4].map(t=>[flat[2*t], flat[2*t+1]]); })();
function scaleIn(U: number[][], sc: any) { return U.map((row) => { const x = sc.negate_input ? [...row, ...row.map((v) => -v)] : row; return x.map((v, j) => (v - sc.x_min[j]) / (sc.x_max[j] - sc.x_min[j])); }); }
function unscale(Y: number[][], sc: any) { return Y.map((r) => r.map((v, j) => v * (sc.y_max[j] - sc.y_min[j]) + sc.y_min[j])); }
function relerr(a: number[][], b: number[][]) { let m = 0; a.forEach((r, i) => r.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j]) / Math.abs(b[i][j]))))); return m; }
for (const name of ['icrnn_energy', 'lrnn_energy', 'iclrnn_energy']) {
  const vars = loadVars(name);
  const sc = JSON.parse(readFileSync(base + name + '/scalers.json', 'utf8'));
  const exp = JSON.parse(readFileSync(base + name + '/expected.json', 'utf8')).Y;
  const keys = Object.keys(vars);
  const cellKeys = keys.filter((k) => k.endsWith('\\cell'));
  const dense = vars[keys.find((k) => k.endsWith('\\dense'))!];
  console.log(name, keys);
  for (const [uname, U] of [['h5py', U5], ['flat', U5t]] as const) {
    for (const variant of [0, 1, 2, 3]) {
      let seq = scaleIn(U as number[][], sc);
      for (const ck of cellKeys) {
        const v = vars[ck];
        const u = v[0].c;
        const out: number[][] = [];
        if (name === 'icrnn_energy') {
          const [K, R, D1, D2, D3, V] = variant & 1 ? [v[0], v[1], v[5], v[4], v[3], v[2]] : v;
          const act = variant & 2 ? elu : relu;
          let h = new Array(u).fill(0), xp = new Array(seq[0].length).fill(0);
          for (const x of seq) { const hn = act(add(mm(x, K), mm(h, R), mm(xp, D2))); const y = act(add(mm(hn, V), mm(h, D1), mm(x, D3))); out.push(y); h = hn; xp = x; }
        } else if (name === 'lrnn_energy') {
          const [P0, P1, Uk, b] = v; const [Bm, Cm] = variant & 1 ? [P1, P0] : [P0, P1];
          const comp = (P: M) => { const o = new Float64Array(u * u); for (let i = 0; i < u; i++) for (let j = 0; j < u; j++) { const a = P.d[i * u + j], at = P.d[j * u + i]; o[i * u + j] = 0.8 * (a - at) + 0.2 * (a + at) - (i === j ? 0.01 : 0); } return { r: u, c: u, d: o }; };
          const A = comp(Bm), W = comp(Cm);
          let h = new Array(u).fill(0);
          for (const x of seq) { const z = add(mm(h, W), mm(x, Uk), Array.from(b.d)).map(Math.tanh); h = add(h, mm(h, A).map((a) => 0.01 * a), z.map((a) => 0.01 * a)); out.push(h); }
        } else {
          const [K, R, b] = v; let h = new Array(u).fill(0);
          for (const x of seq) { h = relu(add(mm(x, K), mm(h, R), Array.from(b.d))); out.push(h); }
        }
        seq = out;
      }
      const dact = name === 'lrnn_energy' ? (x: number[]) => x : relu;
      const Y = seq.map((h) => dact(add(mm(h, dense[0]), Array.from(dense[1].d))));
      const phys = unscale(Y, sc);
      console.log(' ', uname, 'variant', variant, 'maxrel', relerr(phys, exp).toExponential(3));
      if (name !== 'icrnn_energy' && variant >= 1) break;
    }
  }
}
