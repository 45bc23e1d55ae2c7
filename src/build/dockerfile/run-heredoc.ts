// What a RUN with here-documents executes, as BuildKit's dispatchRun decides it.
import { errorAtLoc } from './location.js';
import { chompHeredoc, heredocMarkerOrUndefined } from './heredoc.js';
import type { CommandForm, RunInstruction } from './types.js';

export type RunCommand =
  /** No here-documents: run cmd (shell form through the stage's SHELL). */
  | { kind: 'command'; cmd: CommandForm }
  /** `RUN <<EOF` whose body starts with `#!`: write the body to a 0755 file and execute it. */
  | { kind: 'file'; name: string; content: string }
  /** `RUN <<EOF` otherwise: the (chomped) body is the command for the shell. */
  | { kind: 'script'; script: string }
  /** `RUN python3 <<EOF` and similar: the line plus the bodies, for a shell that does heredocs. */
  | { kind: 'shell'; command: string };

export function runCommand(run: RunInstruction): RunCommand {
  if (run.heredocs.length === 0) return { kind: 'command', cmd: run.cmd };
  if (run.cmd.form !== 'shell') throw errorAtLoc(run.loc, 'parsing produced an invalid run command');
  const first = run.heredocs[0];
  if (first && heredocMarkerOrUndefined(run.cmd.command)) {
    const content = first.chomp ? chompHeredoc(first.content) : first.content;
    return content.startsWith('#!') ? { kind: 'file', name: first.name, content } : { kind: 'script', script: content };
  }
  // The shell handles `<<-` itself, so the bodies go in as written.
  const command = run.heredocs.reduce((acc, h) => `${acc}\n${h.content}${h.name}`, run.cmd.command);
  return { kind: 'shell', command };
}
