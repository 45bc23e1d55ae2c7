// Namespaces: which to join by path (user first, mount last), which to create,
// and the uid/gid map text for a new user namespace.
import type { IdMapping, LinuxNamespace, NamespaceType, Spec } from '../oci/runtime-spec.js';
import { invalidArgument } from '../util/errors.js';
import { CLONE_NEW } from './linux-constants.js';
import type { ProgramOp } from './program.js';

const JOIN_ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

export interface NamespacePlan {
  ops: ProgramOp[];
  created: Set<NamespaceType>;
  joined: Set<NamespaceType>;
}

export function namespaceSet(spec: Spec): Map<NamespaceType, LinuxNamespace> {
  const out = new Map<NamespaceType, LinuxNamespace>();
  for (const ns of spec.linux?.namespaces ?? []) {
    if (!(ns.type in CLONE_NEW)) throw invalidArgument(`linux.namespaces: unknown namespace type "${ns.type}"`);
    if (out.has(ns.type)) throw invalidArgument(`linux.namespaces: namespace type "${ns.type}" is listed twice`);
    out.set(ns.type, ns);
  }
  return out;
}

export function idMapText(maps: readonly IdMapping[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

export function planNamespaces(spec: Spec, opts: { timeNamespace: boolean }): NamespacePlan {
  const namespaces = namespaceSet(spec);
  const ops: ProgramOp[] = [];
  const created = new Set<NamespaceType>();
  const joined = new Set<NamespaceType>();
  for (const type of JOIN_ORDER) {
    const ns = namespaces.get(type);
    if (!ns) continue;
    if (ns.path) {
      joined.add(type);
      ops.push({ op: 'JOIN_NS', args: [CLONE_NEW[type], ns.path], what: `joining the ${type} namespace ${ns.path}` });
    } else {
      created.add(type);
    }
  }
  if (created.has('time') && !opts.timeNamespace) {
    throw invalidArgument('linux.namespaces: this kernel has no time namespace');
  }
  if (created.has('user')) {
    const uid = idMapText(spec.linux?.uidMappings);
    const gid = idMapText(spec.linux?.gidMappings);
    if (!uid || !gid) throw invalidArgument('a new user namespace needs linux.uidMappings and linux.gidMappings');
    ops.push({ op: 'NEW_USERNS', args: [uid, gid, 0], what: 'creating the user namespace and writing its id maps' });
  } else if (spec.linux?.uidMappings?.length || spec.linux?.gidMappings?.length) {
    if (!joined.has('user')) throw invalidArgument('linux.uidMappings are set but there is no user namespace');
  }
  // The cgroup namespace is made by the init itself (planCreate), once it is in its
  // cgroups: it may be born into its cgroup2 directory rather than join it.
  const unshared = [...created].filter((t) => t !== 'user' && t !== 'cgroup');
  const flags = unshared.reduce((f, t) => f | CLONE_NEW[t], 0);
  if (flags) ops.push({ op: 'UNSHARE', args: [flags], what: `creating the ${unshared.join(', ')} namespaces` });
  const offsets = spec.linux?.timeOffsets;
  if (offsets && Object.keys(offsets).length) {
    if (!created.has('time')) throw invalidArgument('linux.timeOffsets need a new time namespace');
    const text = Object.entries(offsets)
      .map(([clock, o]) => {
        if (clock !== 'monotonic' && clock !== 'boottime') throw invalidArgument(`linux.timeOffsets: unknown clock "${clock}"`);
        return `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`;
      })
      .join('');
    ops.push({ op: 'TIMENS_OFFSETS', args: [text], what: 'setting the time namespace offsets' });
  }
  return { ops, created, joined };
}
