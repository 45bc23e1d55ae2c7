// berth-runtime's own log: plain text on stderr, or --log FILE in --log-format
// text|json (runc's format, which containerd and podman read back on failure).
import { appendFileSync } from 'node:fs';

export type LogFormat = 'text' | 'json';

export class RuntimeLog {
  constructor(private readonly file: string | undefined, private readonly format: LogFormat) {}

  write(level: 'error' | 'warning' | 'info' | 'debug', msg: string): void {
    const time = new Date().toISOString();
    const line = this.format === 'json' ? JSON.stringify({ level, msg, time }) + '\n' : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    if (this.file) {
      try {
        appendFileSync(this.file, line);
      } catch {
        // the log is best effort; stderr below still says it
      }
    }
    if (level === 'error' || level === 'warning' || !this.file) process.stderr.write(`berth-runtime: ${level === 'warning' ? 'warning: ' : ''}${msg}\n`);
  }
}
