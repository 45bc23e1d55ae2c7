// docker/cli's formatter.Context.Write (cli/command/formatter/formatter.go): a --format
// string is "table …" (a header row from the column names, then tabwriter alignment with
// minwidth 10, padding 3), "json" (one `{{json .}}` line per row) or a plain template;
// literal "\t" and "\n" in it become tab and newline. Errors read "template parsing error: …".
import { StatusError } from '../command.js';
import { GO_MAP, HEADER_FUNCS, Template, TemplateExecError, TemplateParseError } from './template.js';
import { alignTable } from './table.js';

export const TABLE_FORMAT_KEY = 'table';
export const RAW_FORMAT_KEY = 'raw';
export const JSON_FORMAT_KEY = 'json';
export const JSON_FORMAT = '{{json .}}';
export const DEFAULT_QUIET_FORMAT = '{{.ID}}';

/** A template error, printed as is with exit status 1 (64 for inspect's parse errors, as docker's cli.StatusError). */
export class FormatError extends StatusError {
  constructor(message: string, exitCode = 1) {
    super(exitCode, message);
    this.name = 'FormatError';
  }
}

export const isTableFormat = (format: string): boolean => format.startsWith(TABLE_FORMAT_KEY);

/**
 * docker's table header: a map from field name to column title, with the `Label` method that
 * names a `{{.Label "com.example.x"}}` column by the label's last dotted part ("x").
 */
export class HeaderMap {
  readonly [GO_MAP] = true;

  constructor(titles: Record<string, string>) {
    Object.assign(this, titles);
  }

  Label(name: string): string {
    const parts = name.split('.');
    return (parts[parts.length - 1] as string).replace(/[-_]/g, ' ');
  }
}

/** The template text docker executes for a --format value (Context.preFormat). */
export function finalFormat(format: string): string {
  let text = format;
  if (isTableFormat(format)) text = text.slice(TABLE_FORMAT_KEY.length);
  else if (format === JSON_FORMAT_KEY) text = JSON_FORMAT;
  text = text.replace(/^ +| +$/g, '');
  return text.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/** Parse a docker --format template; a syntax error becomes "template parsing error: …". */
export function parseFormat(text: string, prefix = 'template parsing error: ', exitCode = 1): Template {
  try {
    return Template.parse(text);
  } catch (err) {
    if (err instanceof TemplateParseError) throw new FormatError(prefix + err.message, exitCode);
    throw err;
  }
}

/** Execute, turning an execution error into docker's "template parsing error: …". */
export function executeFormat(tmpl: Template, data: unknown, prefix = 'template parsing error: '): string {
  try {
    return tmpl.execute(data);
  } catch (err) {
    if (err instanceof TemplateExecError) throw new FormatError(prefix + err.message);
    throw err;
  }
}

/** The header row: the template run on the column titles with docker's HeaderFunctions; errors keep what was written. */
export function renderHeader(tmpl: Template, header: HeaderMap): string {
  try {
    return tmpl.withFuncs(HEADER_FUNCS).execute(header);
  } catch (err) {
    if (err instanceof TemplateExecError) return err.partial;
    throw err;
  }
}

/**
 * Render rows as docker's Context.Write: each row's output plus "\n"; for a table format, the
 * header row first and the whole aligned. Returns the text to print.
 */
export function formatRows(format: string, rows: readonly unknown[], header: HeaderMap): string {
  const tmpl = parseFormat(finalFormat(format));
  let body = '';
  for (const row of rows) body += executeFormat(tmpl, row) + '\n';
  if (!isTableFormat(format)) return body;
  return alignTable(renderHeader(tmpl, header) + '\n' + body);
}
