// EXPOSE port specs ("80", "80/tcp", "53/udp", "8000-8002") to the image config's
// "port/proto" keys, following BuildKit's dockerfile2llb/convert_expose.go.
import { isIP } from 'node:net';
import { invalidArgument } from '../../util/errors.js';

/** Expands one (already variable-expanded) EXPOSE word into "port/proto" entries. */
export function parseExposePort(raw: string): string[] {
  const { ip, hostPort, containerPort } = splitParts(raw);
  const { proto, port } = splitProtoPort(raw, containerPort);
  checkIp(ip);
  const [start, end] = portRange(port, 'containerPort');
  if (hostPort !== '') {
    const [hs, he] = portRange(hostPort, 'hostPort');
    // A host range may map onto a single container port, not onto a different-sized range.
    if (end - start !== he - hs && end !== start) {
      throw invalidArgument(`invalid ranges specified for container and host Ports: ${port} and ${hostPort}`);
    }
  }
  const ports: string[] = [];
  for (let p = start; p <= end; p++) ports.push(`${p}/${proto.toLowerCase()}`);
  return ports;
}

/** Every EXPOSE word of an instruction, in order. */
export function parseExposePorts(words: string[]): string[] {
  return words.flatMap(parseExposePort);
}

function splitParts(raw: string): { ip: string; hostPort: string; containerPort: string } {
  const parts = raw.split(':');
  const n = parts.length;
  if (n === 1) return { ip: '', hostPort: '', containerPort: raw };
  return { ip: parts.slice(0, n - 2).join(':'), hostPort: parts[n - 2] as string, containerPort: parts[n - 1] as string };
}

function splitProtoPort(raw: string, spec: string): { proto: string; port: string } {
  const slash = spec.indexOf('/');
  const port = slash === -1 ? spec : spec.slice(0, slash);
  const proto = slash === -1 ? '' : spec.slice(slash + 1);
  if (port === '') throw invalidArgument(`invalid port: "${raw}": no port specified`);
  if (proto === '') return { proto: 'tcp', port };
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw invalidArgument(`invalid port: "${raw}": invalid proto: ${proto}`);
  return { proto, port };
}

function checkIp(ip: string): void {
  if (ip === '') return;
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (isIP(bare) === 0) throw invalidArgument(`invalid IP address: ${ip}`);
}

function portRange(spec: string, what: string): [number, number] {
  const dash = spec.indexOf('-');
  const startText = dash === -1 ? spec : spec.slice(0, dash);
  const endText = dash === -1 ? startText : spec.slice(dash + 1);
  const start = portNumber(startText, what, spec);
  if (endText === startText) return [start, start];
  const end = portNumber(endText, what, spec);
  if (end < start) throw invalidArgument(`invalid ${what}: ${spec}`);
  return [start, end];
}

function portNumber(text: string, what: string, spec: string): number {
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw invalidArgument(`invalid ${what}: ${spec}`);
  return n;
}
