// `docker diff` rows (docker/cli cli/command/container/formatter_diff.go): "C /etc", "A /new", "D /gone".
import type { FilesystemChange } from '../../oci/engine-api.js';
import { HeaderMap, TABLE_FORMAT_KEY } from './formatter.js';
import { FormatContext } from './template.js';

export const DEFAULT_DIFF_FORMAT = '{{.Type}} {{.Path}}';
const DEFAULT_DIFF_TABLE_FORMAT = 'table {{.Type}}\t{{.Path}}';

export const diffHeader = (): HeaderMap => new HeaderMap({ Type: 'CHANGE TYPE', Path: 'PATH' });

export const diffFormat = (source: string): string => (source === TABLE_FORMAT_KEY ? DEFAULT_DIFF_TABLE_FORMAT : source);

const KIND_LETTERS = ['C', 'A', 'D'] as const;

export class DiffContext extends FormatContext {
  readonly goType = '*container.diffContext';

  constructor(private readonly change: FilesystemChange) {
    super();
  }

  protected jsonFields(): string[] {
    return ['Path', 'Type'];
  }

  /** container.ChangeType.String(): 0 modified "C", 1 added "A", 2 deleted "D". */
  Type(): string {
    return KIND_LETTERS[this.change.Kind] ?? '';
  }

  Path(): string {
    return this.change.Path;
  }
}
