// The content store's cross-process locks: one implementation, shared with the snapshot
// store, in src/util/lockfile.ts (symlink owner records: no temp files, no data block).
export {
  acquireLock,
  deadLockLeftovers,
  FileLock,
  inProcessQueue,
  lockHolder,
  parseSideFile,
  pidAlive,
  tryAcquire,
  withLock,
  type AcquireOptions,
  type LockHolder,
} from '../util/lockfile.js';
