// Used by scripts/hello.sh: make a bundle whose rootfs is the built-in hello-world image,
// mounted from berth's image store (data root argv[2]) at argv[3]/rootfs.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore } from '../dist/src/images/store.js';
import { ensureHelloWorld } from '../dist/src/images/builtin.js';
import { mountAll } from '../dist/src/snapshots/mount.js';
import { defaultSpec } from '../dist/src/runtime-cli/default-spec.js';

const [dataRoot, bundle] = process.argv.slice(2);
const store = await ImageStore.open({ root: dataRoot });
const image = await ensureHelloWorld(store);
const config = (await store.configOf(image)).config ?? {};
const rootfs = join(bundle, 'rootfs');
mkdirSync(rootfs, { recursive: true });
await mountAll(await store.prepareRootfs(`hello-${process.pid}`, image), rootfs);
const spec = defaultSpec();
spec.process.terminal = false;
spec.process.args = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
spec.process.env = config.Env ?? spec.process.env;
writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
console.error(`hello-world ${image.id.slice(7, 19)} (${store.snapshots.name} snapshot) mounted at ${rootfs}`);
await store.close();
