// `berth info` / `system info` (docker/cli cli/command/system/info.go): docker's layout with
// berth's values, or a --format template over the client and server information.
import type { SystemInfo } from '../../oci/engine-api.js';
import { StatusError, type CommandContext, type CommandDef } from '../command.js';
import { JSON_FORMAT, JSON_FORMAT_KEY, parseFormat } from '../format/formatter.js';
import { bytesSize } from '../../util/units.js';
import { GoStruct, TemplateExecError } from '../format/template.js';
import { INSPECT_FORMAT_HELP, stringFlag } from './read-support.js';
import { clientVersionInfo } from './version.js';

/** Fields of docker's system.Info that berth's wire type does not list (printed when present). */
type ServerInfo = SystemInfo & {
  SystemStatus?: [string, string][] | null;
  CDISpecDirs?: string[] | null;
  ContainerdCommit?: { ID: string };
  RuncCommit?: { ID: string };
  InitCommit?: { ID: string };
  ProductLicense?: string;
  DefaultAddressPools?: { Base: string; Size: number }[] | null;
};

const line = (...parts: unknown[]): string => parts.map(String).join(' ') + '\n';
const nonEmpty = (label: string, value: string | undefined): string => (value ? line(label, value) : '');

/** system.DecodeSecurityOptions: "name=seccomp,profile=builtin" → seccomp with Profile builtin. */
function securityOptions(options: string[]): string {
  let out = ' Security Options:\n';
  for (const opt of options) {
    if (!opt.includes('=')) {
      out += `  ${opt}\n`;
      continue;
    }
    let name = '';
    let profile: string | undefined;
    for (const pair of opt.split(',')) {
      const eq = pair.indexOf('=');
      const key = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (key === 'name') name = value;
      else if (key === 'profile') profile = value;
    }
    out += `  ${name}\n`;
    if (profile !== undefined) out += line('   Profile:', profile);
  }
  return out;
}

function serverText(info: ServerInfo): string {
  let out = '';
  out += line(' Containers:', info.Containers);
  out += line('  Running:', info.ContainersRunning);
  out += line('  Paused:', info.ContainersPaused);
  out += line('  Stopped:', info.ContainersStopped);
  out += line(' Images:', info.Images);
  out += nonEmpty(' Server Version:', info.ServerVersion);
  out += nonEmpty(' Storage Driver:', info.Driver);
  for (const [k, v] of info.DriverStatus ?? []) out += `  ${k}: ${v}\n`;
  for (const [k, v] of info.SystemStatus ?? []) out += ` ${k}: ${v}\n`;
  out += nonEmpty(' Logging Driver:', info.LoggingDriver);
  out += nonEmpty(' Cgroup Driver:', info.CgroupDriver);
  out += nonEmpty(' Cgroup Version:', info.CgroupVersion);
  out += ' Plugins:\n';
  out += line('  Volume:', (info.Plugins?.Volume ?? []).join(' '));
  out += line('  Network:', (info.Plugins?.Network ?? []).join(' '));
  if ((info.Plugins?.Authorization ?? []).length > 0) out += line('  Authorization:', (info.Plugins.Authorization ?? []).join(' '));
  out += line('  Log:', (info.Plugins?.Log ?? []).join(' '));
  if ((info.CDISpecDirs ?? []).length > 0) {
    out += ' CDI spec directories:\n';
    for (const dir of info.CDISpecDirs ?? []) out += `  ${dir}\n`;
  }
  out += line(' Swarm:', info.Swarm?.LocalNodeState ?? 'inactive');
  if (info.Swarm && info.Swarm.LocalNodeState !== 'inactive' && info.Swarm.LocalNodeState !== 'locked') {
    out += line('  NodeID:', info.Swarm.NodeID);
    if (info.Swarm.Error) out += line('  Error:', info.Swarm.Error);
    out += line('  Is Manager:', info.Swarm.ControlAvailable);
    out += line('  Node Address:', info.Swarm.NodeAddr);
  }
  const runtimes = Object.keys(info.Runtimes ?? {});
  if (runtimes.length > 0) {
    out += line(' Runtimes:', runtimes.join(' '));
    out += line(' Default Runtime:', info.DefaultRuntime);
  }
  if (info.OSType === 'linux') {
    out += line(' Init Binary:', info.InitBinary ?? '');
    out += line(' containerd version:', info.ContainerdCommit?.ID ?? '');
    out += line(' runc version:', info.RuncCommit?.ID ?? '');
    out += line(' init version:', info.InitCommit?.ID ?? '');
    if ((info.SecurityOptions ?? []).length > 0) out += securityOptions(info.SecurityOptions);
  }
  if (info.OSType === 'windows') out += line(' Default Isolation:', info.Isolation);
  out += nonEmpty(' Kernel Version:', info.KernelVersion);
  out += nonEmpty(' Operating System:', info.OperatingSystem);
  out += nonEmpty(' OSType:', info.OSType);
  out += nonEmpty(' Architecture:', info.Architecture);
  out += line(' CPUs:', info.NCPU);
  out += line(' Total Memory:', bytesSize(info.MemTotal));
  out += nonEmpty(' Name:', info.Name);
  out += nonEmpty(' ID:', info.ID);
  out += line(' Docker Root Dir:', info.DockerRootDir);
  out += line(' Debug Mode:', info.Debug);
  if (info.Debug) {
    out += line('  File Descriptors:', info.NFd);
    out += line('  Goroutines:', info.NGoroutines);
    out += line('  System Time:', info.SystemTime);
    out += line('  EventsListeners:', info.NEventsListener);
  }
  out += nonEmpty(' HTTP Proxy:', info.HttpProxy);
  out += nonEmpty(' HTTPS Proxy:', info.HttpsProxy);
  out += nonEmpty(' No Proxy:', info.NoProxy);
  if ((info.Labels ?? []).length > 0) {
    out += ' Labels:\n';
    for (const l of info.Labels) out += `  ${l}\n`;
  }
  out += line(' Experimental:', info.ExperimentalBuild);
  const registry = info.RegistryConfig;
  const indexConfigs = Object.values(registry?.IndexConfigs ?? {});
  if (registry && ((registry.InsecureRegistryCIDRs ?? []).length > 0 || indexConfigs.length > 0)) {
    out += ' Insecure Registries:\n';
    for (const c of indexConfigs) if (!c.Secure) out += `  ${c.Name}\n`;
    for (const cidr of registry.InsecureRegistryCIDRs ?? []) out += `  ${cidr}\n`;
  }
  if ((registry?.Mirrors ?? []).length > 0) {
    out += ' Registry Mirrors:\n';
    for (const m of registry.Mirrors) out += `  ${m}\n`;
  }
  out += line(' Live Restore Enabled:', info.LiveRestoreEnabled);
  if (info.ProductLicense) out += line(' Product License:', info.ProductLicense);
  if ((info.DefaultAddressPools ?? []).length > 0) {
    out += ' Default Address Pools:\n';
    for (const p of info.DefaultAddressPools ?? []) out += `   Base: ${p.Base}, Size: ${p.Size}\n`;
  }
  return out + '\n';
}

async function prettyPrint(ctx: CommandContext): Promise<number> {
  const client = clientVersionInfo(ctx, undefined);
  let out = 'Client:\n';
  out += nonEmpty(' Version:   ', client.Version);
  out += line(' Context:   ', client.Context);
  out += line(' Debug Mode:', ctx.debug === true);
  out += '\nServer:\n';
  ctx.stdout.write(out);
  const api = await ctx.client();
  const info = (await api.info()) as ServerInfo;
  ctx.stdout.write(serverText(info));
  for (const w of info.Warnings ?? []) ctx.stderr.write(`${w}\n`);
  return 0;
}

export const infoCommand: CommandDef = {
  name: 'info',
  aliases: ['system info'],
  usage: 'docker info [OPTIONS]',
  summary: 'Display system-wide information',
  maxArgs: 0,
  flags: [{ name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP }],
  async run(ctx, _args, flags) {
    const format = stringFlag(flags['format']);
    if (format === '') return prettyPrint(ctx);
    const tmpl = parseFormat(format === JSON_FORMAT_KEY ? JSON_FORMAT : format, 'template parsing error: ', 64);
    const api = await ctx.client();
    const info = await api.info();
    const client = { Debug: ctx.debug === true, ...clientVersionInfo(ctx, api.apiVersion), Plugins: [], Warnings: null };
    try {
      ctx.stdout.write(tmpl.execute(new GoStruct({ ...info, ClientInfo: client }, 'system.dockerInfo')) + '\n');
    } catch (err) {
      if (!(err instanceof TemplateExecError)) throw err;
      ctx.stdout.write(err.partial + '\n');
      throw new StatusError(1, err.message);
    }
    return 0;
  },
};
