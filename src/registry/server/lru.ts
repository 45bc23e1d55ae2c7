// A byte-bounded least-recently-used cache for immutable things keyed by digest
// (manifest bodies): a pull asks for the same few manifests over and over, and a
// content-addressed value never goes stale — only its membership in a repository can,
// and that is checked on disk each time.

export class ByteLru<V extends { length: number }> {
  private readonly map = new Map<string, V>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    /** Values larger than this are not kept (one huge value would evict everything). */
    private readonly maxEntryBytes: number,
  ) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    // Re-insert to mark it most recently used (Map keeps insertion order).
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    if (value.length > this.maxEntryBytes) return;
    this.delete(key);
    this.map.set(key, value);
    this.bytes += value.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.length;
    }
  }

  delete(key: string): void {
    const old = this.map.get(key);
    if (old === undefined) return;
    this.map.delete(key);
    this.bytes -= old.length;
  }
}
