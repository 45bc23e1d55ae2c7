// A port of Go's text/tabwriter (docker/cli's fork in cli/command/formatter/tabwriter, which
// measures cells with go-runewidth), for the options docker uses: no flags, space padding.
// Cells are tab-terminated; a column block is a run of lines that all have that column
// ("elastic tabstops"); a line without any tab ends the block, exactly as Go's does.
import { displayWidth } from '../../util/units.js';

interface Cell {
  text: string;
  width: number;
  /** Terminated by a tab (not by the end of the line). */
  htab: boolean;
}

export class TabWriter {
  private lines: Cell[][] = [[]];
  private partial = '';
  private widths: number[] = [];
  private out = '';

  /** Go: tabwriter.NewWriter(out, minwidth, tabwidth, padding, ' ', 0). tabwidth is unused with space padding. */
  constructor(
    private readonly minWidth: number,
    private readonly padding: number,
  ) {}

  write(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === '\t' || ch === '\v' || ch === '\n' || ch === '\f') {
        this.partial += text.slice(start, i);
        start = i + 1;
        const line = this.lines[this.lines.length - 1] as Cell[];
        line.push({ text: this.partial, width: displayWidth(this.partial), htab: ch === '\t' });
        this.partial = '';
        if (ch === '\n' || ch === '\f') {
          this.lines.push([]);
          // A line with a single cell ends every open column block.
          if (ch === '\f' || line.length === 1) this.flushLines();
        }
      }
    }
    this.partial += text.slice(start);
  }

  /** Format everything written so far and return the text (the writer is reset). */
  flush(): string {
    if (this.partial.length > 0) {
      (this.lines[this.lines.length - 1] as Cell[]).push({ text: this.partial, width: displayWidth(this.partial), htab: false });
      this.partial = '';
    }
    this.flushLines();
    const result = this.out;
    this.out = '';
    return result;
  }

  private flushLines(): void {
    this.format(0, this.lines.length);
    this.lines = [[]];
    this.widths = [];
  }

  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let current = line0; current < line1; current++) {
      const line = this.lines[current] as Cell[];
      if (column >= line.length - 1) continue;
      // Cell in this column exists: print the lines before the block, then size the block.
      this.writeLines(line0, current);
      line0 = current;
      let width = this.minWidth;
      for (; current < line1; current++) {
        const l = this.lines[current] as Cell[];
        if (column >= l.length - 1) break;
        const cellWidth = (l[column] as Cell).width + this.padding;
        if (cellWidth > width) width = cellWidth;
      }
      this.widths.push(width);
      this.format(line0, current);
      this.widths.pop();
      line0 = current;
    }
    this.writeLines(line0, line1);
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i] as Cell[];
      line.forEach((cell, j) => {
        const colWidth = this.widths[j];
        if (cell.text.length === 0) {
          if (colWidth !== undefined) this.out += ' '.repeat(colWidth - cell.width);
          return;
        }
        this.out += cell.text;
        if (colWidth !== undefined) this.out += ' '.repeat(Math.max(0, colWidth - cell.width));
      });
      // The last line is the one still being written: it gets no newline.
      if (i + 1 !== this.lines.length) this.out += '\n';
    }
  }
}

/** Align `text` (tab-separated cells, newline-terminated rows) as docker's tables: minwidth 10, padding 3. */
export function alignTable(text: string, minWidth = 10, padding = 3): string {
  const writer = new TabWriter(minWidth, padding);
  writer.write(text);
  return writer.flush();
}
