// Docker's `--change` instructions for import and commit: a Dockerfile line each, limited
// to the instructions that only change the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
// ONBUILD, USER, VOLUME, WORKDIR; plus STOPSIGNAL and HEALTHCHECK NONE for commit).
import type { ContainerConfig } from '../oci/image-spec.js';
import { invalidArgument } from '../util/errors.js';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL'];

/** JSON array form, or the shell form wrapped as Docker does (["/bin/sh", "-c", …]). */
function commandForm(args: string, what: string): string[] {
  if (args.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(args);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      // not JSON: Docker then takes the whole text as a shell command
    }
  }
  if (args === '') throw invalidArgument(`${what} requires at least one argument`);
  return ['/bin/sh', '-c', args];
}

/** "a=b c=d" or "a b" (old single-pair form); quotes as in a Dockerfile. */
function keyValues(args: string, what: string): Array<[string, string]> {
  const words = args.match(/(?:[^\s"']+|"(?:\\.|[^"\\])*"|'[^']*')+/g) ?? [];
  if (words.length === 0) throw invalidArgument(`${what} requires at least one argument`);
  const unquote = (s: string): string => s.replace(/"((?:\\.|[^"\\])*)"|'([^']*)'/g, (_, d: string | undefined, q: string | undefined) => (d !== undefined ? d.replace(/\\(.)/g, '$1') : q!));
  if (!words[0]!.includes('=')) {
    const [key, ...rest] = args.trim().split(/\s+/);
    if (!key || rest.length === 0) throw invalidArgument(`${what} must have two arguments`);
    return [[key, unquote(args.trim().slice(key.length).trim())]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalidArgument(`${what}: "${w}" is not key=value`);
    return [w.slice(0, eq), unquote(w.slice(eq + 1))];
  });
}

function listForm(args: string): string[] {
  if (args.startsWith('[')) {
    const v: unknown = JSON.parse(args);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  }
  return args.split(/\s+/).filter(Boolean);
}

function applyOne(c: ContainerConfig, instruction: string, args: string): void {
  switch (instruction) {
    case 'CMD':
      c.Cmd = commandForm(args, 'CMD');
      return;
    case 'ENTRYPOINT':
      c.Entrypoint = commandForm(args, 'ENTRYPOINT');
      return;
    case 'ENV': {
      const env = [...(c.Env ?? [])];
      for (const [k, v] of keyValues(args, 'ENV')) {
        const at = env.findIndex((e) => e.startsWith(`${k}=`));
        if (at === -1) env.push(`${k}=${v}`);
        else env[at] = `${k}=${v}`;
      }
      c.Env = env;
      return;
    }
    case 'LABEL':
      c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(keyValues(args, 'LABEL')) };
      return;
    case 'EXPOSE':
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of listForm(args)) {
        if (!/^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/i.test(p)) throw invalidArgument(`EXPOSE: invalid port "${p}"`);
        c.ExposedPorts[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
      }
      return;
    case 'VOLUME':
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of listForm(args)) c.Volumes[v] = {};
      return;
    case 'USER':
      c.User = args;
      return;
    case 'WORKDIR':
      c.WorkingDir = args.startsWith('/') ? args : `${c.WorkingDir ?? '/'}/${args}`.replace(/\/+/g, '/');
      return;
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), args];
      return;
    case 'STOPSIGNAL':
      c.StopSignal = args;
      return;
  }
}

/** Apply --change lines to a copy of config. */
export function applyChanges(config: ContainerConfig | undefined, changes: readonly string[]): ContainerConfig {
  const c: ContainerConfig = structuredClone(config ?? {});
  for (const line of changes) {
    const m = /^\s*(\S+)\s*(.*?)\s*$/s.exec(line);
    const instruction = m?.[1]?.toUpperCase() ?? '';
    if (!ALLOWED.includes(instruction)) {
      throw invalidArgument(`${instruction || line} is not a valid change command (want one of ${ALLOWED.join(', ')})`);
    }
    applyOne(c, instruction, m![2]!);
  }
  return c;
}
