// One CSV record as Go's encoding/csv reads it, for RUN --mount values such as
// `type=bind,"source=a,b",target=/x`.
import { invalidArgument } from '../../util/errors.js';

export function splitCsv(line: string): string[] {
  const fields: string[] = [];
  if (line === '') return fields;
  let i = 0;
  for (;;) {
    const [field, end] = line[i] === '"' ? readQuoted(line, i) : readBare(line, i);
    fields.push(field);
    if (end >= line.length) return fields;
    i = end + 1; // skip the comma
    if (i === line.length) {
      fields.push('');
      return fields;
    }
  }
}

function readBare(line: string, start: number): [string, number] {
  const comma = line.indexOf(',', start);
  const end = comma === -1 ? line.length : comma;
  const field = line.slice(start, end);
  if (field.includes('"')) throw invalidArgument(`failed to parse csv mounts: bare " in non-quoted-field: ${line}`);
  return [field, end];
}

function readQuoted(line: string, start: number): [string, number] {
  let field = '';
  for (let i = start + 1; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch !== '"') {
      field += ch;
      continue;
    }
    if (line[i + 1] === '"') {
      field += '"';
      i++;
      continue;
    }
    if (i + 1 < line.length && line[i + 1] !== ',') break;
    return [field, i + 1];
  }
  throw invalidArgument(`failed to parse csv mounts: extraneous or missing " in quoted-field: ${line}`);
}

export function joinCsv(fields: string[]): string {
  return fields.map(quoteIfNeeded).join(',');
}

function quoteIfNeeded(field: string): string {
  if (!/[",\r\n]/.test(field) && !/^[ \t]/.test(field)) return field;
  return '"' + field.replaceAll('"', '""') + '"';
}
