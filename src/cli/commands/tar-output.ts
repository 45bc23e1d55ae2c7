// Where `save` and `export` write their tar: -o FILE (written whole under a temporary name,
// then renamed into place, so a failed run leaves no half file) or stdout — never a terminal.
import { createWriteStream, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CommandContext } from '../command.js';
import { StatusError } from '../command.js';

/** Refuse a terminal before asking the daemon for anything (docker's check). */
export function checkTarOutput(ctx: CommandContext, output: string): void {
  if (output === '' && ctx.stdout.isTTY) throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
}

/** `what` names the operation in the error, e.g. "save image", "export container". */
export async function writeTarOutput(ctx: CommandContext, body: Readable, output: string, what: string): Promise<void> {
  if (output === '') {
    await pipeline(body, ctx.stdout, { end: false });
    return;
  }
  const temp = join(dirname(output), `.${basename(output)}.berth-${process.pid}`);
  try {
    await pipeline(body, createWriteStream(temp, { mode: 0o600 }));
    renameSync(temp, output);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // never created
    }
    throw new StatusError(1, `failed to ${what}: ${(err as Error).message}`);
  }
}
