// `docker history` rows (docker/cli cli/command/image/formatter_history.go).
import type { ImageHistoryItem } from '../../oci/engine-api.js';
import { DEFAULT_QUIET_FORMAT, HeaderMap, TABLE_FORMAT_KEY } from './formatter.js';
import { FormatContext } from './template.js';
import { rfc3339 } from './time.js';
import { ellipsis, humanSizeWithPrecision, timeAgo, truncateId } from '../../util/units.js';

const DEFAULT_HISTORY_TABLE_FORMAT = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const NON_HUMAN_HISTORY_TABLE_FORMAT = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
/** 2000-01-01T00:00:00Z: older "created" times are unknown, printed as N/A. */
const EPOCH_2000 = 946684800;

export const historyHeader = (): HeaderMap =>
  new HeaderMap({ ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' });

export function historyFormat(source: string, quiet: boolean, human: boolean): string {
  if (source !== TABLE_FORMAT_KEY) return source;
  if (quiet) return DEFAULT_QUIET_FORMAT;
  return human ? DEFAULT_HISTORY_TABLE_FORMAT : NON_HUMAN_HISTORY_TABLE_FORMAT;
}

export class HistoryContext extends FormatContext {
  readonly goType = '*image.historyContext';

  constructor(
    private readonly h: ImageHistoryItem,
    private readonly trunc: boolean,
    private readonly human: boolean,
    private readonly nowMs: number = Date.now(),
  ) {
    super();
  }

  protected jsonFields(): string[] {
    return ['Comment', 'CreatedAt', 'CreatedBy', 'CreatedSince', 'ID', 'Size'];
  }

  ID(): string {
    return this.trunc ? truncateId(this.h.Id) : this.h.Id;
  }

  CreatedAt(): string {
    return rfc3339(this.h.Created);
  }

  CreatedSince(): string {
    if (!this.human) return this.CreatedAt();
    if (this.h.Created <= EPOCH_2000) return 'N/A';
    return timeAgo(this.h.Created, this.nowMs);
  }

  CreatedBy(): string {
    const createdBy = (this.h.CreatedBy ?? '').replace(/\t/g, ' ');
    return this.trunc ? ellipsis(createdBy, 45) : createdBy;
  }

  Size(): string {
    return this.human ? humanSizeWithPrecision(this.h.Size, 3) : String(this.h.Size);
  }

  Comment(): string {
    return this.h.Comment ?? '';
  }
}
