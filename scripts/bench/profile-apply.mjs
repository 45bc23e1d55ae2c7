// Where berth's layer apply spends its time: one warm-up apply, then N profiled applies of the
// layer into fresh overlay snapshots (the same call bench/layers.ts times), with
//   - wall time, Node's own CPU (user/sys) and berth-unpack's CPU (the reaped children's
//     cutime/cstime from /proc/self/stat) per apply;
//   - a V8 CPU profile of the applies only (inspector Profiler, started after the warm-up and
//     stopped before the snapshot is removed), written to --out and summarised by self time.
// Run it under strace for the syscall side:
//   strace -c -f -o /tmp/apply.strace node scripts/bench/profile-apply.mjs --runs 1
//
//   node scripts/bench/profile-apply.mjs [--layer FILE] [--runs N] [--disk] [--out FILE.cpuprofile] [--top N]
//                                        [--no-profile]   (times and CPU only: the profiler costs CPU)
//
// Needs `npx tsc -p tsconfig.json` first (it imports dist/). Targets are on a private tmpfs
// (--disk: under the layer's directory); everything is unmounted and removed at the end.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (p) => pathToFileURL(join(repo, 'dist', p)).href;
const { applyLayer } = await import(dist('src/images/layer/apply.js'));
const { OverlaySnapshotter } = await import(dist('src/snapshots/overlay.js'));
const { writableDir } = await import(dist('src/snapshots/snapshotter.js'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : args[i + 1];
};
const layer = resolve(opt('--layer', join(process.env.BERTH_BENCH_DIR ?? '/var/tmp/berth-bench', 'bookworm-minbase.tar')));
const runs = Number(opt('--runs', '3'));
const out = opt('--out', '/tmp/berth-apply.cpuprofile');
const top = Number(opt('--top', '25'));
const disk = args.includes('--disk');
const profiling = !args.includes('--no-profile');

const TICKS = 100; // USER_HZ
function childCpu() {
  // /proc/self/stat: fields after "(comm)": state is [0], cutime [13], cstime [14] (in ticks).
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return { user: (Number(f[13]) * 1000) / TICKS, sys: (Number(f[14]) * 1000) / TICKS };
}

const work = mkdtempSync(join(dirname(layer), 'profile-'));
let mounted = false;
let snap;
const session = new Session();
try {
  let base = work;
  if (!disk) {
    base = join(work, 'tmpfs');
    mkdirSync(base);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2g,mode=0755', 'berth-bench', base], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
    mounted = true;
  }
  snap = await OverlaySnapshotter.open(join(base, 'snapshots'));
  let n = 0;
  const once = async (profile) => {
    const key = `p${++n}`;
    const { dir, style } = writableDir(await snap.prepare(key));
    spawnSync('sync');
    if (profile) await session.post('Profiler.start');
    const c0 = childCpu();
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    const res = await applyLayer({ path: layer }, dir, { style });
    const wall = performance.now() - t0;
    const u = process.cpuUsage(u0);
    const c1 = childCpu();
    const prof = profile ? (await session.post('Profiler.stop')).profile : undefined;
    await snap.remove(key);
    return { wall, res, node: { user: u.user / 1000, sys: u.system / 1000 }, unpack: { user: c1.user - c0.user, sys: c1.sys - c0.sys }, prof };
  };
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  const w = await once(false);
  console.log(`layer ${layer}: ${w.res.size} bytes, ${w.res.entries} entries, ${w.res.compression}; targets on ${disk ? 'disk' : 'tmpfs'}`);
  console.log(`warm-up: ${w.wall.toFixed(0)} ms`);
  const merged = new Map();
  let total = 0;
  for (let i = 0; i < runs; i++) {
    const r = await once(profiling);
    console.log(
      `run ${i + 1}: wall ${r.wall.toFixed(0)} ms; node cpu ${r.node.user.toFixed(0)} user + ${r.node.sys.toFixed(0)} sys; ` +
        `berth-unpack cpu ${r.unpack.user.toFixed(0)} user + ${r.unpack.sys.toFixed(0)} sys (10 ms ticks)`,
    );
    if (!r.prof) continue;
    if (i === 0) writeFileSync(out, JSON.stringify(r.prof));
    const byId = new Map(r.prof.nodes.map((nd) => [nd.id, nd]));
    r.prof.samples.forEach((id, k) => {
      const cf = byId.get(id).callFrame;
      const key = `${cf.functionName || '(anonymous)'} ${cf.url ? `${cf.url.replace(/^file:\/\/.*\/dist\//, '').replace(/^node:/, 'node:')}:${cf.lineNumber + 1}` : ''}`;
      const dt = r.prof.timeDeltas[k] ?? 0;
      merged.set(key, (merged.get(key) ?? 0) + dt);
      total += dt;
    });
  }
  if (profiling) {
    console.log(`\nV8 self time over ${runs} profiled applies (${(total / 1000).toFixed(0)} ms sampled; profile of run 1 in ${out}):`);
    for (const [k, t] of [...merged].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(t / 1000 / runs).toFixed(1).padStart(8)} ms/apply ${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
    }
  }
} finally {
  session.disconnect();
  if (snap) await snap.close().catch(() => undefined);
  if (mounted) spawnSync('umount', ['-l', join(work, 'tmpfs')]);
  spawnSync('rm', ['-rf', '--one-file-system', work]);
}
