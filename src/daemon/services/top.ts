// docker top: the host's ps, filtered to the container's processes, after moby's
// daemon/top_unix.go (validatePSArgs, parsePSOutput, psPidsArg). ps is the host's own
// (DESIGN §6: nothing from the container's root is ever run).
import type { ContainerTopResponse } from '../../oci/engine-api.js';
import { internal, invalidArgument } from '../../util/errors.js';
import { HostToolError, runTool } from '../../util/host-tool.js';

/** moby refuses "-o user=PID": only `pid=` may rename the PID column. */
export function validatePsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (m[1] !== 'pid') throw invalidArgument(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

/** strings.Fields with ASCII whitespace only (moby#24358: ps may print Unicode spaces in a command). */
function fieldsAscii(s: string): string[] {
  return s.split(/[\t\n\f\r ]+/).filter((f) => f !== '');
}

/** A row with exactly as many fields as titles: the overhanging ones are the command, joined. */
function row(titles: string[], fields: string[]): string[] {
  const fixed = fields.slice(0, titles.length - 1);
  return [...fixed, fields.slice(titles.length - 1).join(' ')];
}

/** ps output → titles and the rows whose PID is one of pids (and the thread rows, "-", that follow them). */
export function parsePsOutput(output: string, pids: readonly number[]): ContainerTopResponse {
  const lines = output.split('\n');
  const titles = fieldsAscii(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex === -1) throw internal("Couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const processes: string[][] = [];
  let previousWasOurs = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const fields = fieldsAscii(line);
    const pidField = fields[pidIndex];
    if (pidField === undefined) continue;
    if (pidField === '-') {
      // Thread lines (ps -L / m) carry no PID: they belong to the process above them.
      if (previousWasOurs) processes.push(row(titles, fields));
      continue;
    }
    if (!/^[+-]?\d+$/.test(pidField)) throw internal(`Unexpected pid '${pidField}': strconv.Atoi: parsing "${pidField}": invalid syntax`);
    previousWasOurs = wanted.has(Number(pidField));
    if (previousWasOurs) processes.push(row(titles, fields));
  }
  return { Titles: titles, Processes: processes };
}

/** GET /containers/{id}/top: `ps <psArgs>` (default -ef) limited to the container's pids. */
export async function top(pids: number[], psArgs: string): Promise<ContainerTopResponse> {
  const argsText = psArgs === '' ? '-ef' : psArgs;
  validatePsArgs(argsText);
  const args = argsText.split(' ').filter((a) => a !== '');
  let output: string;
  try {
    output = (await runTool(['ps', ...args, `-q${pids.join(',')}`])).stdout;
  } catch {
    // Some ps options (f, for one) cannot be combined with -q: retry without it, as moby does.
    try {
      output = (await runTool(['ps', ...args])).stdout;
    } catch (err) {
      const firstLine = err instanceof HostToolError ? err.stderr.split('\n')[0] : '';
      throw internal(`ps: ${firstLine || (err as Error).message}`, err);
    }
  }
  return parsePsOutput(output, pids);
}
