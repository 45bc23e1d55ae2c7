// `berth port` / `container port` (docker/cli cli/command/container/port.go).
import { StatusError, type CommandDef } from '../command.js';
import { joinHostPort } from '../format/container.js';
import { naturalCompare } from '../format/natural-sort.js';

export const portCommand: CommandDef = {
  name: 'port',
  aliases: ['container port'],
  usage: 'docker port CONTAINER [PRIVATE_PORT[/PROTO]]',
  summary: 'List port mappings or a specific mapping for the container',
  minArgs: 1,
  maxArgs: 2,
  flags: [],
  async run(ctx, args) {
    const [container, wanted] = args as [string, string | undefined];
    const client = await ctx.client();
    const c = await client.inspectContainer(container);
    const ports = c.NetworkSettings?.Ports ?? {};
    const out: string[] = [];
    if (wanted !== undefined) {
      const slash = wanted.indexOf('/');
      const port = slash >= 0 ? wanted.slice(0, slash) : wanted;
      const proto = (slash >= 0 ? wanted.slice(slash + 1) : '') || 'tcp';
      if (!/^\d+$/.test(port) || Number(port) > 65535) {
        const reason = /^\d+$/.test(port) ? 'value out of range' : 'invalid syntax';
        throw new StatusError(1, `Error: invalid port (${port}): strconv.ParseUint: parsing ${JSON.stringify(port)}: ${reason}`);
      }
      const frontends = ports[`${port}/${proto}`];
      if (!frontends || frontends.length === 0) throw new StatusError(1, `Error: No public port '${wanted}' published for ${container}`);
      for (const f of frontends) out.push(joinHostPort(f.HostIp ?? '', f.HostPort ?? ''));
    } else {
      for (const [from, frontends] of Object.entries(ports)) {
        for (const f of frontends ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp ?? '', f.HostPort ?? '')}`);
      }
    }
    if (out.length > 0) {
      out.sort(naturalCompare);
      ctx.stdout.write(out.join('\n') + '\n');
    }
    return 0;
  },
};
