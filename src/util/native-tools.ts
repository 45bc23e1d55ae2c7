// Where berth's own C helpers are: built by `make -C native` into build/native.
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

/** berth-unpack: layer apply, scan/diff and du (native/unpack). BERTH_UNPACK overrides it. */
export const UNPACK_PATH = process.env.BERTH_UNPACK ?? join(packageRoot(), 'build/native/berth-unpack');
