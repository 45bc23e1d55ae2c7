// Device cgroup rules, evaluated the way the v1 kernel does, so that v1 and
// v2 (eBPF) containers get exactly the same device access. A port of runc's
// opencontainers/cgroups devices emulator (devices_emulator.go):
//
// - rules apply in order: an "a" rule resets everything to allow-all or
//   deny-all; a specific rule adds or removes an exception to that default,
//   so for the same device the last matching rule wins;
// - a rule cannot punch a hole in a wildcard exception (v1 would silently
//   ignore it, so we refuse rather than give a false sense of security);
// - the empty list is deny-all.

import type { LinuxDeviceCgroup } from '../../oci/runtime-spec.js';
import { invalidArgument, internal } from '../../util/errors.js';

export const WILDCARD = -1;

export type DeviceType = 'a' | 'b' | 'c';

export interface DeviceRule {
  type: DeviceType;
  /** -1 is the wildcard "*". */
  major: number;
  minor: number;
  /** Non-empty subset of "rwm", in that order. */
  access: string;
  allow: boolean;
}

const R = 1;
const W = 2;
const M = 4;

function accessToSet(access: string): number {
  let set = 0;
  for (const ch of access) set |= ch === 'r' ? R : ch === 'w' ? W : ch === 'm' ? M : 0;
  return set;
}

function setToAccess(set: number): string {
  return `${set & R ? 'r' : ''}${set & W ? 'w' : ''}${set & M ? 'm' : ''}`;
}

function checkDeviceNumber(what: string, index: number, v: number | null | undefined): number {
  if (v === undefined || v === null || v === WILDCARD) return WILDCARD;
  // The eBPF program compares against a sign-extended 32-bit immediate, and
  // Linux device numbers are at most 12 (major) and 20 (minor) bits anyway.
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
    throw invalidArgument(`cgroup: linux.resources.devices[${index}].${what}: invalid device number ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validate OCI device cgroup entries and fill in runc's defaults (type "a", wildcard numbers). */
export function normalizeDeviceRules(rules: LinuxDeviceCgroup[]): DeviceRule[] {
  return rules.map((d, i) => {
    const type = d.type === undefined || d.type === '' ? 'a' : d.type;
    if (type !== 'a' && type !== 'b' && type !== 'c') {
      throw invalidArgument(`cgroup: linux.resources.devices[${i}].type: invalid cgroup device type ${JSON.stringify(d.type)} (want a, b or c)`);
    }
    const access = d.access ?? '';
    if (access === '') throw invalidArgument(`cgroup: linux.resources.devices[${i}].access: device access cannot be empty`);
    if (!/^[rwm]+$/.test(access)) {
      throw invalidArgument(`cgroup: linux.resources.devices[${i}].access: ${JSON.stringify(access)} may only contain r, w and m`);
    }
    if (typeof d.allow !== 'boolean') throw invalidArgument(`cgroup: linux.resources.devices[${i}].allow must be true or false`);
    return {
      type,
      major: checkDeviceNumber('major', i, d.major),
      minor: checkDeviceNumber('minor', i, d.minor),
      access: setToAccess(accessToSet(access)),
      allow: d.allow,
    };
  });
}

/** "c 1:3 rwm", the format of devices.allow/devices.deny/devices.list. */
export function ruleString(r: DeviceRule): string {
  const n = (v: number): string => (v === WILDCARD ? '*' : String(v));
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

interface Meta {
  type: 'b' | 'c';
  major: number;
  minor: number;
}

const keyOf = (m: Meta): string => `${m.type} ${m.major} ${m.minor}`;

export class DeviceEmulator {
  /** true: allow-all with deny exceptions (v1 "black-list"); false: deny-all with allow exceptions. */
  defaultAllow = false;
  /** Exceptions to the default: device → permission set. */
  private readonly exceptions = new Map<string, { meta: Meta; perms: number }>();

  static fromRules(rules: DeviceRule[]): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const r of rules) e.apply(r);
    return e;
  }

  /**
   * The state of a v1 devices cgroup from its devices.list. An allow-all
   * cgroup lists "a *:* rwm" and cannot tell its deny exceptions, so it is
   * taken as plain allow-all (transition() then starts from scratch).
   */
  static fromList(list: string): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const line of list.split('\n')) {
      if (line.trim() === '') continue;
      const f = line.trim().split(/[ :]/);
      if (f.length !== 4) throw internal(`cgroup: malformed devices.list rule ${JSON.stringify(line)}`);
      const [type, major, minor, access] = f as [string, string, string, string];
      if (type === 'a') {
        e.reset(true);
        continue;
      }
      if (type !== 'b' && type !== 'c') throw internal(`cgroup: devices.list: unknown device type ${JSON.stringify(type)}`);
      const num = (s: string): number => (s === '*' ? WILDCARD : Number(s));
      e.allow({ type, major: num(major), minor: num(minor) }, accessToSet(access));
    }
    return e;
  }

  isAllowAll(): boolean {
    return this.defaultAllow && this.exceptions.size === 0;
  }

  apply(rule: DeviceRule): void {
    const perms = accessToSet(rule.access);
    if (rule.type === 'a') {
      this.reset(rule.allow);
      return;
    }
    const meta: Meta = { type: rule.type, major: rule.major, minor: rule.minor };
    if (rule.allow) this.allow(meta, perms);
    else this.deny(meta, perms);
  }

  private reset(defaultAllow: boolean): void {
    this.defaultAllow = defaultAllow;
    this.exceptions.clear();
  }

  private allow(meta: Meta, perms: number): void {
    if (this.defaultAllow) this.removeException(meta, perms, 'deny');
    else this.addException(meta, perms);
  }

  private deny(meta: Meta, perms: number): void {
    if (this.defaultAllow) this.addException(meta, perms);
    else this.removeException(meta, perms, 'allow');
  }

  private addException(meta: Meta, perms: number): void {
    const k = keyOf(meta);
    this.exceptions.set(k, { meta, perms: (this.exceptions.get(k)?.perms ?? 0) | perms });
  }

  private removeException(meta: Meta, perms: number, kind: string): void {
    const partials: Meta[] = [
      { type: meta.type, major: WILDCARD, minor: meta.minor },
      { type: meta.type, major: meta.major, minor: WILDCARD },
      { type: meta.type, major: WILDCARD, minor: WILDCARD },
    ];
    for (const p of partials) {
      if (keyOf(p) === keyOf(meta)) continue;
      const existing = this.exceptions.get(keyOf(p));
      if (existing && (existing.perms & perms) !== 0) {
        const want = ruleString({ ...meta, access: setToAccess(perms), allow: true });
        const have = ruleString({ ...p, access: setToAccess(existing.perms), allow: true });
        throw invalidArgument(
          `cgroup: device rule "${want}" cannot remove the '${kind}' exception: it would punch a hole in the wildcard rule "${have}", which the devices cgroup does not support`,
        );
      }
    }
    const k = keyOf(meta);
    const left = (this.exceptions.get(k)?.perms ?? 0) & ~perms;
    if (left === 0) this.exceptions.delete(k);
    else this.exceptions.set(k, { meta, perms: left });
  }

  /** Exceptions sorted by (major, minor, type) so the same input always writes the same lines. */
  private sortedExceptions(): { meta: Meta; perms: number }[] {
    return [...this.exceptions.values()].sort(
      (a, b) =>
        a.meta.major - b.meta.major || a.meta.minor - b.meta.minor || (a.meta.type < b.meta.type ? -1 : a.meta.type > b.meta.type ? 1 : 0),
    );
  }

  /**
   * The fewest rules that take a cgroup in this state to target (runc's
   * Transition). A default-policy change, or an allow-all source whose deny
   * exceptions cannot be read, starts with a disruptive "a *:* rwm".
   */
  transition(target: DeviceEmulator): DeviceRule[] {
    const out: DeviceRule[] = [];
    let old = this.sortedExceptions();
    if (this.defaultAllow || this.defaultAllow !== target.defaultAllow) {
      out.push({ type: 'a', major: WILDCARD, minor: WILDCARD, access: 'rwm', allow: target.defaultAllow });
      old = [];
    }
    const oldMap = new Map(old.map((e) => [keyOf(e.meta), e.perms]));
    for (const { meta, perms } of old) {
      const dropped = perms & ~(target.exceptions.get(keyOf(meta))?.perms ?? 0);
      if (dropped) out.push({ ...meta, access: setToAccess(dropped), allow: target.defaultAllow });
    }
    for (const { meta, perms } of target.sortedExceptions()) {
      const gained = perms & ~(oldMap.get(keyOf(meta)) ?? 0);
      if (gained) out.push({ ...meta, access: setToAccess(gained), allow: !target.defaultAllow });
    }
    return out;
  }

  /** The minimal rule list from a deny-all start: what the eBPF program encodes. */
  cleanRules(): DeviceRule[] {
    return new DeviceEmulator().transition(this);
  }

  /** Equality of state, for the post-write check of a v1 cgroup. */
  equals(other: DeviceEmulator): boolean {
    if (this.defaultAllow !== other.defaultAllow || this.exceptions.size !== other.exceptions.size) return false;
    for (const [k, v] of this.exceptions) if (other.exceptions.get(k)?.perms !== v.perms) return false;
    return true;
  }
}
