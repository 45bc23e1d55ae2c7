// The planner: an OCI spec plus how it is being run → the shim's setup program.
// Everything that can be decided before clone() is decided here (DESIGN.md §1–2).
import type { Process, Spec } from '../oci/runtime-spec.js';
import type { HostFacts } from '../sys/host.js';
import { invalidArgument } from '../util/errors.js';
import { planNamespaces } from './plan-namespaces.js';
import { capabilityMasks, planRlimits, planSysctls, validateProcess } from './plan-process.js';
import { planMasks, planRootfs, type RootfsMount } from './plan-rootfs.js';
import type { CgroupHierarchy } from './plan-cgroup-mounts.js';
import { ShimMode, type ProgramOp, type ShimModeName } from './program.js';

export interface SeccompProgram {
  filter: Buffer;
  flags: number;
}

export interface MonitorOptions {
  logPath?: string;
  logMaxSize: number;
  logMaxFiles: number;
  oomV1MemoryDir?: string;
  oomV2Dir?: string;
  stdin: boolean;
  stdinOnce: boolean;
}

export interface CgroupPlan {
  /** Files stage 1 writes "0" into: v1 `tasks` (moving its one thread skips the kernel's global lock). */
  joinFiles: string[];
  /** The cgroup2 directory the init is born into (clone3 CLONE_INTO_CGROUP). */
  cloneInto?: string;
  /** What a `cgroup` mount inside the container shows, per host hierarchy. */
  hierarchies: CgroupHierarchy[];
  deviceFilter?: { dir: string; program: Buffer };
}

interface CommonRequest {
  mode: ShimModeName;
  /** Host programs the shim runs, in order, before it makes the container (berthd's network wiring). */
  hostTools?: readonly HostTool[];
  /** Paths the monitor unmounts and removes when the process has exited (a network namespace). */
  exitUnmounts?: readonly string[];
  /** Where the shim keeps shim.pid/exit/oom/sockets (monitor mode). */
  stateDir?: string;
  preserveFds: number;
  consoleSocket?: string;
  cgroup: CgroupPlan;
  seccomp?: SeccompProgram;
  monitor?: MonitorOptions;
  host: HostFacts;
  warn: (msg: string) => void;
}

export interface CreateRequest extends CommonRequest {
  id: string;
  bundle: string;
  rootfs: string;
  spec: Spec;
  /** runc's exec fifo: the init blocks on it until `start`. Absent for `run`-style immediate start. */
  execFifo?: string;
  noPivot: boolean;
  /** Pause after the init exists (for hooks and network wiring by the caller). */
  waitAfterCreate: boolean;
  /** runc's --no-new-keyring: keep the caller's session keyring. */
  noNewKeyring?: boolean;
  /** Bring "lo" up in a new network namespace (berthd's default; runc leaves it to CNI). */
  loopbackUp?: boolean;
  rootfsMounts?: readonly RootfsMount[];
}

/** A host program run by the shim: an absolute file, its argv and what it reads on stdin. */
export interface HostTool {
  file: string;
  argv: readonly string[];
  input: string;
}

export interface ExecRequest extends CommonRequest {
  process: Process;
  /** Hold the process before exec until a byte is written here (berthd attaches first). */
  execFifo?: string;
  /** /proc/<pid>/ns/<type> paths of the running container, user first. */
  namespacePaths: { type: number; path: string }[];
  apparmor?: string;
}

function shimConfig(req: CommonRequest, process: Process): ProgramOp[] {
  const ops: ProgramOp[] = [{ op: 'MODE', args: [ShimMode[req.mode]], what: `running in ${req.mode} mode` }];
  if (req.stateDir) ops.push({ op: 'STATE_DIR', args: [req.stateDir], what: 'using the state directory' });
  ops.push({ op: 'PRESERVE_FDS', args: [req.preserveFds], what: 'passing preserved fds' });
  if (req.consoleSocket) ops.push({ op: 'CONSOLE_SOCKET', args: [req.consoleSocket], what: `connecting to console socket ${req.consoleSocket}` });
  if (process.terminal) {
    if (req.mode === 'exit' && !req.consoleSocket) {
      throw invalidArgument('process.terminal is set but no --console-socket was given for a detached container');
    }
    const size = process.consoleSize ?? { height: 0, width: 0 };
    ops.push({ op: 'TERMINAL', args: [size.height, size.width], what: 'allocating a terminal' });
  } else if (req.consoleSocket) {
    throw invalidArgument('--console-socket was given but process.terminal is false');
  }
  if (req.monitor) {
    const m = req.monitor;
    if (m.logPath) ops.push({ op: 'MONITOR_LOG', args: [m.logPath, m.logMaxSize, m.logMaxFiles], what: 'opening the log' });
    ops.push({ op: 'MONITOR_OOM', args: [m.oomV1MemoryDir ?? '', m.oomV2Dir ?? ''], what: 'watching for OOM kills' });
    ops.push({ op: 'MONITOR_STDIN', args: [m.stdin ? 1 : 0, m.stdinOnce ? 1 : 0], what: 'holding stdin' });
  }
  for (const t of req.hostTools ?? []) ops.push({ op: 'HOST_TOOL', args: [t.file, { list: [...t.argv] }, t.input], what: `running ${t.argv.join(' ')}` });
  for (const path of req.exitUnmounts ?? []) ops.push({ op: 'EXIT_UNMOUNT', args: [path], what: `unmounting ${path} at exit` });
  if (req.cgroup.deviceFilter) {
    const f = req.cgroup.deviceFilter;
    ops.push({ op: 'CGROUP_BPF', args: [f.dir, f.program], what: `attaching the device filter to ${f.dir}` });
  }
  for (const file of req.cgroup.joinFiles) ops.push({ op: 'CGROUP_JOIN', args: [file], what: `joining cgroup ${file}` });
  if (req.cgroup.cloneInto) ops.push({ op: 'CGROUP_CLONE_INTO', args: [req.cgroup.cloneInto], what: `starting the init in cgroup ${req.cgroup.cloneInto}` });
  return ops;
}

function hookState(id: string, bundle: string, annotations: Record<string, string> | undefined): string[] {
  const head = `{"ociVersion":"1.2.0","id":${JSON.stringify(id)},"status":"`;
  const tail = `,"bundle":${JSON.stringify(bundle)},"annotations":${JSON.stringify(annotations ?? {})}}`;
  return [head, '","pid":', tail];
}

function hookOps(hooks: Spec['hooks'], name: 'createContainer' | 'startContainer'): ProgramOp[] {
  return (hooks?.[name] ?? []).map((h, i) => {
    if (!h.path.startsWith('/')) throw invalidArgument(`hooks.${name}[${i}].path "${h.path}" must be absolute`);
    if (h.timeout !== undefined && !(Number.isInteger(h.timeout) && h.timeout > 0)) {
      throw invalidArgument(`hooks.${name}[${i}].timeout must be a positive integer`);
    }
    return { op: 'HOOK', args: [h.path, { list: h.args ?? [h.path] }, { list: h.env ?? [] }, h.timeout ?? 0, name], what: `running ${name} hook ${h.path}` };
  });
}

/** The tail every process shares, create or exec: identity, privileges, then exec. */
function processOps(req: CommonRequest, p: Process, opts: { waitStart: boolean; startHooks: ProgramOp[] }): ProgramOp[] {
  const ops: ProgramOp[] = [...planRlimits(p.rlimits, req.host)];
  const nnp = p.noNewPrivileges === true;
  const seccomp: ProgramOp[] = req.seccomp
    ? [{ op: 'SECCOMP', args: [req.seccomp.filter, req.seccomp.flags], what: 'loading the seccomp filter' }]
    : [];
  const caps = p.capabilities ? capabilityMasks(p.capabilities, req.host.lastCap, req.warn) : undefined;
  // Everything the runtime itself needs (close_range, getcwd, setresuid) happens before
  // the filter, so a profile that denies those still gets a working container.
  ops.push({ op: 'CLOEXEC_FROM', args: [3 + req.preserveFds], what: 'closing inherited fds' });
  if (caps) ops.push({ op: 'CAPS_BOUNDING', args: [caps.bounding], what: 'dropping capabilities from the bounding set' });
  const groups = Buffer.alloc(4 * (p.user.additionalGids?.length ?? 0));
  (p.user.additionalGids ?? []).forEach((g, i) => groups.writeUInt32LE(g, 4 * i));
  ops.push({ op: 'USER', args: [p.user.uid, p.user.gid, groups, 1], what: `switching to uid ${p.user.uid} gid ${p.user.gid}` });
  ops.push({ op: 'UMASK', args: [p.user.umask ?? 0o022], what: 'setting the umask' });
  ops.push({ op: 'CHDIR', args: [p.cwd], what: `changing to cwd ${p.cwd}` });
  // Without no_new_privs the filter loads while the permitted set still holds CAP_SYS_ADMIN.
  if (!nnp) ops.push(...seccomp);
  if (caps) {
    ops.push({ op: 'CAPS', args: [caps.effective, caps.permitted, caps.inheritable, caps.ambient], what: 'setting capabilities' });
  }
  if (nnp) ops.push({ op: 'NO_NEW_PRIVS', args: [], what: 'setting no_new_privs' });
  ops.push({ op: 'REPORT_READY', args: [], what: 'finding the executable' });
  if (opts.waitStart) ops.push({ op: 'WAIT_START', args: [], what: 'waiting for start' });
  ops.push(...opts.startHooks);
  if (nnp) ops.push(...seccomp);
  const args = p.args ?? [];
  ops.push({ op: 'EXEC', args: [args[0] ?? '', { list: args }, { list: p.env ?? [] }], what: `executing ${args[0]}` });
  return ops;
}

function lsmOps(p: Process, host: HostFacts, warn: (m: string) => void): ProgramOp[] {
  const ops: ProgramOp[] = [];
  if (p.apparmorProfile) {
    if (host.apparmor) {
      ops.push({ op: 'LSM_LABEL', args: ['/proc/self/attr/apparmor/exec', `exec ${p.apparmorProfile}`], what: `applying AppArmor profile ${p.apparmorProfile}` });
    } else warn(`process.apparmorProfile ${p.apparmorProfile} ignored: AppArmor is not enabled on this host`);
  }
  if (p.selinuxLabel) {
    if (host.selinux) ops.push({ op: 'LSM_LABEL', args: ['/proc/self/attr/exec', p.selinuxLabel], what: `applying SELinux label ${p.selinuxLabel}` });
    else warn(`process.selinuxLabel ${p.selinuxLabel} ignored: SELinux is not enabled on this host`);
  }
  return ops;
}

export function planCreate(req: CreateRequest): ProgramOp[] {
  const { spec } = req;
  const process = validateProcess(spec.process);
  const ns = planNamespaces(spec, { timeNamespace: req.host.timeNamespace });
  const owns = (t: 'mount' | 'uts'): boolean => ns.created.has(t) || ns.joined.has(t);
  const ownMountNs = owns('mount');
  if (!ownMountNs) {
    if (spec.root?.readonly) throw invalidArgument('root.readonly needs a mount namespace of its own');
    req.warn('no mount namespace: the container\'s mounts are made in the runtime\'s mount namespace and it is chrooted, as runc does');
  }
  const ops: ProgramOp[] = [...shimConfig(req, process)];
  if (req.waitAfterCreate) ops.push({ op: 'WAIT_AFTER_CREATE', args: [], what: 'waiting for the caller' });
  ops.push({ op: 'HOOK_STATE', args: hookState(req.id, req.bundle, spec.annotations), what: 'preparing hook state' });
  ops.push(...ns.ops);
  if (req.loopbackUp && ns.created.has('network')) ops.push({ op: 'LOOPBACK_UP', args: [], what: 'bringing up the loopback interface' });
  if (ns.created.has('cgroup')) ops.push({ op: 'CGROUPNS', args: [], what: 'creating the cgroup namespace' });
  if (!req.noNewKeyring) ops.push({ op: 'SESSION_KEYRING', args: [`_ses.${req.id}`], what: 'joining a new session keyring' });
  if (spec.hostname !== undefined && spec.hostname !== '') {
    if (!owns('uts')) throw invalidArgument('hostname is set but the container has no UTS namespace of its own');
    ops.push({ op: 'SETHOSTNAME', args: [spec.hostname], what: `setting the hostname to ${spec.hostname}` });
  }
  if (spec.domainname) {
    if (!owns('uts')) throw invalidArgument('domainname is set but the container has no UTS namespace of its own');
    ops.push({ op: 'SETDOMAINNAME', args: [spec.domainname], what: `setting the domainname to ${spec.domainname}` });
  }
  ops.push(...planSysctls(spec, ns.created, ns.joined));
  if (process.oomScoreAdj !== undefined) {
    ops.push({ op: 'OOM_SCORE_ADJ', args: [String(process.oomScoreAdj)], what: 'setting oom_score_adj' });
  }
  const inUserNs = ns.created.has('user') || ns.joined.has('user');
  ops.push(...planRootfs({
    spec, bundle: req.bundle, rootfs: req.rootfs, inUserNs, kcore: req.host.kcore, rootfsMounts: req.rootfsMounts,
    cgroupns: ns.created.has('cgroup') || ns.joined.has('cgroup'), cgroupHierarchies: req.cgroup.hierarchies, ownMountNs,
  }));
  if (spec.hooks?.prestart?.length || spec.hooks?.createRuntime?.length) {
    ops.push({ op: 'SYNC_HOOKS', args: [], what: 'running prestart and createRuntime hooks' });
  }
  ops.push(...hookOps(spec.hooks, 'createContainer'));
  if (process.terminal) {
    ops.push({ op: 'CONSOLE', args: [process.consoleSize?.height ?? 0, process.consoleSize?.width ?? 0, process.user.uid, process.user.gid], what: 'setting up the terminal' });
  }
  ops.push(...planMasks(spec));
  if (req.execFifo) ops.push({ op: 'EXEC_FIFO', args: [req.execFifo], what: 'opening the exec fifo' });
  ops.push(...lsmOps(process, req.host, req.warn));
  const how = !ownMountNs ? 2 : req.noPivot ? 1 : 0;
  ops.push({ op: 'PIVOT_ROOT', args: [how], what: ['pivoting into the rootfs', 'moving into the rootfs', 'entering the rootfs (chroot)'][how]! });
  if (spec.root?.readonly) ops.push({ op: 'READONLY_ROOT', args: [], what: 'making the root read-only' });
  const personality = spec.linux?.personality;
  if (personality) {
    if (personality.flags?.length) throw invalidArgument('linux.personality.flags are not supported');
    const domains: Record<string, number> = { LINUX: 0, LINUX32: 8 };
    const value = domains[personality.domain];
    if (value === undefined) throw invalidArgument(`linux.personality.domain "${personality.domain}" is not LINUX or LINUX32`);
    ops.push({ op: 'PERSONALITY', args: [value], what: `setting the personality to ${personality.domain}` });
  }
  ops.push(...processOps(req, process, { waitStart: req.execFifo !== undefined, startHooks: hookOps(spec.hooks, 'startContainer') }));
  return ops;
}

export function planExec(req: ExecRequest): ProgramOp[] {
  const process = validateProcess(req.process);
  const ops: ProgramOp[] = [...shimConfig(req, process)];
  for (const ns of req.namespacePaths) ops.push({ op: 'JOIN_NS', args: [ns.type, ns.path], what: `joining ${ns.path}` });
  if (process.terminal) {
    ops.push({ op: 'CONSOLE', args: [process.consoleSize?.height ?? 0, process.consoleSize?.width ?? 0, process.user.uid, process.user.gid], what: 'setting up the terminal' });
  }
  const withProfile = req.apparmor && !process.apparmorProfile ? { ...process, apparmorProfile: req.apparmor } : process;
  ops.push(...lsmOps(withProfile, req.host, req.warn));
  if (process.oomScoreAdj !== undefined) ops.push({ op: 'OOM_SCORE_ADJ', args: [String(process.oomScoreAdj)], what: 'setting oom_score_adj' });
  // The shim opens the fifo itself, before joining any namespace, so the host path works.
  if (req.execFifo) ops.push({ op: 'EXEC_FIFO', args: [req.execFifo], what: 'opening the exec fifo' });
  ops.push(...processOps(req, process, { waitStart: req.execFifo !== undefined, startHooks: [] }));
  return ops;
}
