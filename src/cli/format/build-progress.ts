// `berth build`'s display of the classic builder's stream, in the style BuildKit made
// familiar: each step a numbered line with its time or CACHED; on a terminal the finished
// steps collapse to that one line and the running step shows its last lines of output,
// redrawn in place; otherwise (plain) every line is printed once, prefixed by its step.
import type { JSONMessage } from '../../oci/engine-api.js';
import { JSONMessageError } from './progress.js';

interface Step {
  n: number;
  title: string;
  started: number;
  ended?: number;
  cached: boolean;
  output: string[];
}

export interface BuildDisplayResult {
  imageId?: string;
}

const ESC = '\x1b[';
const TAIL_LINES = 6;
const STEP_RE = /^Step (\d+)\/(\d+) : (.*)$/;

export class BuildDisplay {
  private readonly steps: Step[] = [];
  private total = 0;
  private drawn = 0;
  private partial = '';
  private readonly start = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: NodeJS.WritableStream, private readonly tty: boolean, private readonly columns = 80) {}

  async consume(messages: AsyncIterable<JSONMessage>): Promise<BuildDisplayResult> {
    const result: BuildDisplayResult = {};
    if (this.tty) this.timer = setInterval(() => this.redraw(), 200);
    try {
      for await (const m of messages) {
        if (m.errorDetail || m.error) {
          this.flushPartial();
          this.finishCurrent(false);
          this.redraw();
          throw new JSONMessageError(m.errorDetail?.message ?? m.error ?? 'build failed', m.errorDetail?.code);
        }
        const aux = m.aux as { ID?: string } | undefined;
        if (aux?.ID) result.imageId = aux.ID;
        if (typeof m.stream === 'string') this.text(m.stream);
      }
      this.flushPartial();
      this.finishCurrent(true);
      this.redraw(true);
      return result;
    } finally {
      if (this.timer) clearInterval(this.timer);
    }
  }

  private text(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  private flushPartial(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  private line(line: string): void {
    const step = STEP_RE.exec(line);
    if (step) {
      this.finishCurrent(true);
      this.total = Number(step[2]);
      const s: Step = { n: Number(step[1]), title: step[3]!, started: Date.now(), cached: false, output: [] };
      this.steps.push(s);
      if (!this.tty) this.out.write(`#${s.n} [${s.n}/${this.total}] ${s.title}\n`);
      return;
    }
    const cur = this.current();
    if (line === ' ---> Using cache') {
      if (cur) cur.cached = true;
      return;
    }
    // The classic builder's bookkeeping lines carry nothing a reader needs here.
    if (/^ ---> /.test(line) || /^Removing intermediate container /.test(line) || /^Successfully (built|tagged) /.test(line)) return;
    if (cur) {
      cur.output.push(line);
      if (!this.tty) this.out.write(`#${cur.n} ${line}\n`);
    } else if (!this.tty) this.out.write(`${line}\n`);
  }

  private current(): Step | undefined {
    const last = this.steps.at(-1);
    return last && last.ended === undefined ? last : undefined;
  }

  private finishCurrent(ok: boolean): void {
    const cur = this.current();
    if (!cur) return;
    cur.ended = Date.now();
    if (this.tty) return;
    if (cur.cached) this.out.write(`#${cur.n} CACHED\n`);
    else this.out.write(ok ? `#${cur.n} DONE ${seconds(cur.ended - cur.started)}\n` : `#${cur.n} ERROR\n`);
    this.out.write('\n');
  }

  private redraw(final = false): void {
    if (!this.tty) return;
    const lines: string[] = [];
    const done = this.steps.filter((s) => s.ended !== undefined).length;
    lines.push(`[+] Building ${seconds(Date.now() - this.start)} (${done}/${this.total || this.steps.length})${final ? ' FINISHED' : ''}`);
    for (const s of this.steps) {
      const state = s.cached ? 'CACHED' : seconds((s.ended ?? Date.now()) - s.started);
      lines.push(this.fit(` => ${s.cached ? 'CACHED ' : ''}[${s.n}/${this.total}] ${s.title}`, state));
      if (s.ended === undefined) for (const o of s.output.slice(-TAIL_LINES)) lines.push(this.clip(` => => # ${o}`));
    }
    let text = this.drawn ? `${ESC}${this.drawn}A` : '';
    for (const l of lines) text += `${ESC}2K${l}\n`;
    // A step that finished collapsed its output: blank what is left of the last drawing.
    const stale = this.drawn - lines.length;
    if (stale > 0) text += `${`${ESC}2K\n`.repeat(stale)}${ESC}${stale}A`;
    this.out.write(text);
    this.drawn = lines.length;
  }

  private fit(left: string, right: string): string {
    const room = Math.max(10, this.columns - right.length - 1);
    const l = left.length > room ? `${left.slice(0, room - 1)}…` : left.padEnd(room);
    return `${l} ${right}`;
  }

  private clip(line: string): string {
    return line.length > this.columns ? line.slice(0, this.columns) : line;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
