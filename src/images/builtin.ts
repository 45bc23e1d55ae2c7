// The built-in hello-world image: berth's static hello payload as a one-layer image,
// always available without a download. Everything in it is fixed (mtimes, created), so
// its ID is the same on every host of one architecture.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { isBerthError } from '../util/errors.js';
import { createImage, storeLayer } from './create.js';
import type { ImageRecord, ImageStore } from './store.js';
import { tarBuffer } from './tar/writer.js';

export const HELLO_WORLD = 'hello-world:latest';
const CREATED = '2024-01-01T00:00:00Z';
const EPOCH = Date.parse(CREATED) / 1000;

export function helloPayloadPath(): string {
  return join(packageRoot(), 'build/native/hello');
}

function helloLayer(): Buffer {
  return tarBuffer([{ name: 'hello', type: 'file', mode: 0o755, mtimeSec: EPOCH, data: readFileSync(helloPayloadPath()) }]);
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

/** Make sure hello-world:latest exists (re-tagging it if someone removed only the tag). */
export async function ensureHelloWorld(store: ImageStore): Promise<ImageRecord> {
  try {
    return await store.resolve(HELLO_WORLD);
  } catch (err) {
    if (!isBerthError(err, 'NotFound')) throw err;
  }
  return store.withLease(async (lease) =>
    createImage(
      store,
      {
        layer: await storeLayer(store, once(helloLayer()), lease),
        config: { Cmd: ['/hello'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
        history: { created_by: 'berth: built-in hello-world (build/native/hello)' },
        created: CREATED,
        refs: [HELLO_WORLD],
      },
      lease,
    ),
  );
}
