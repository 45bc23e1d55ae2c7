// `berth version` (docker/cli cli/command/system/version.go): docker's template with its
// Client: and Server: sections, aligned with tabwriter (minwidth 20, padding 1).
import { API_VERSION, type ComponentVersion, type VersionResponse } from '../../oci/engine-api.js';
import type { CommandContext, CommandDef } from '../command.js';
import { FormatError, JSON_FORMAT, JSON_FORMAT_KEY } from '../format/formatter.js';
import { TabWriter } from '../format/table.js';
import { GoStruct, Template, TemplateExecError, TemplateParseError } from '../format/template.js';
import { reformatDate } from '../format/time.js';
import { INSPECT_FORMAT_HELP, stringFlag } from './read-support.js';

import { BERTH_VERSION as BERTH_CLI_VERSION } from '../../util/version.js';
export { BERTH_CLI_VERSION };

const DEFAULT_VERSION_TEMPLATE = `{{with .Client -}}
Client:{{if ne .Platform nil}}{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}{{end}}
 Version:	{{.Version}}
 API version:	{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Go version:	{{.GoVersion}}
 Git commit:	{{.GitCommit}}
 Built:	{{.BuildTime}}
 OS/Arch:	{{.Os}}/{{.Arch}}
 Context:	{{.Context}}
{{- end}}

{{- if ne .Server nil}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:	{{.Version}}
  API version:	{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:	{{index .Details "GoVersion"}}
  Git commit:	{{index .Details "GitCommit"}}
  Built:	{{index .Details "BuildTime"}}
  OS/Arch:	{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:	{{index .Details "Experimental"}}
  {{- else }}
  Version:	{{$component.Version}}
  {{- $detailsOrder := getDetailsOrder $component}}
  {{- range $key := $detailsOrder}}
  {{$key}}:	{{index $component.Details $key}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}`;

/** Go's GOARCH for Node's process.arch. */
export function goArch(arch: string = process.arch): string {
  switch (arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    case 'ppc64':
      return 'ppc64le';
    default:
      return arch;
  }
}

/** The client half (docker's clientVersion): what this berth binary is. */
export interface ClientVersion {
  Platform?: { Name: string };
  Version: string;
  ApiVersion?: string;
  DefaultAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  BuildTime: string;
  Context: string;
}

export function clientVersionInfo(ctx: Pick<CommandContext, 'env'>, apiVersion: string | undefined): ClientVersion {
  void ctx;
  return {
    Version: BERTH_CLI_VERSION,
    ...(apiVersion ? { ApiVersion: apiVersion } : {}),
    DefaultAPIVersion: API_VERSION,
    GitCommit: '',
    GoVersion: process.version,
    Os: 'linux',
    Arch: goArch(),
    BuildTime: '',
    Context: 'default',
  };
}

/** The value the template sees: Go's field names (APIVersion, a nil Platform); `{{json}}` gives the JSON spelling. */
class ClientSection {
  constructor(private readonly v: ClientVersion) {
    Object.assign(this, { Platform: null }, v, { APIVersion: v.ApiVersion ?? '' });
  }
  toJSON(): ClientVersion {
    return this.v;
  }
}

const getDetailsOrder = {
  params: ['any' as const],
  fn: (component: unknown) => Object.keys((component as ComponentVersion).Details ?? {}).sort(),
};

/** The text `version` prints and, when the template failed while running, the error (printed after it). */
export function renderVersion(format: string, client: ClientVersion, server: VersionResponse | undefined): { text: string; error?: FormatError } {
  const source = format === '' ? DEFAULT_VERSION_TEMPLATE : format === JSON_FORMAT_KEY ? JSON_FORMAT : format;
  let tmpl: Template;
  try {
    tmpl = Template.parse(source, { name: 'version', funcs: { getDetailsOrder } });
  } catch (err) {
    if (err instanceof TemplateParseError) throw new FormatError(`template parsing error: ${err.message}`, 64);
    throw err;
  }
  const data = new GoStruct({ Client: new ClientSection(client), Server: server ? withEngine(server) : null }, 'system.versionInfo');
  const writer = new TabWriter(20, 1);
  let error: FormatError | undefined;
  try {
    writer.write(tmpl.execute(data));
  } catch (err) {
    if (!(err instanceof TemplateExecError)) throw err;
    writer.write(err.partial);
    error = new FormatError(err.message);
  }
  writer.write('\n');
  return { text: writer.flush(), ...(error ? { error } : {}) };
}

/** A Go map[string]string marshals with sorted keys. */
function sortedMap(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** docker adds an "Engine" component from the top-level fields when the daemon lists none, and reformats its build time. */
function withEngine(sv: VersionResponse): VersionResponse {
  const components = (sv.Components ?? []).map((c) => {
    const details = c.Name === 'Engine' && c.Details?.['BuildTime'] !== undefined ? { ...c.Details, BuildTime: reformatDate(c.Details['BuildTime']) } : c.Details;
    return details ? { ...c, Details: sortedMap(details) } : c;
  });
  if (!components.some((c) => c.Name === 'Engine')) {
    components.push({
      Name: 'Engine',
      Version: sv.Version,
      Details: sortedMap({
        ApiVersion: sv.ApiVersion,
        MinAPIVersion: sv.MinAPIVersion,
        GitCommit: sv.GitCommit,
        GoVersion: sv.GoVersion,
        Os: sv.Os,
        Arch: sv.Arch,
        BuildTime: reformatDate(sv.BuildTime),
        Experimental: String(sv.Experimental ?? false),
      }),
    });
  }
  return { ...sv, Components: components };
}

export const versionCommand: CommandDef = {
  name: 'version',
  usage: 'docker version [OPTIONS]',
  summary: 'Show the Docker version information',
  maxArgs: 0,
  flags: [{ name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP }],
  async run(ctx, _args, flags) {
    const format = stringFlag(flags['format']);
    let server: VersionResponse | undefined;
    let apiVersion: string | undefined;
    let failure: unknown;
    try {
      const client = await ctx.client();
      apiVersion = client.apiVersion;
      server = await client.version();
    } catch (err) {
      failure = err;
    }
    const { text, error } = renderVersion(format, clientVersionInfo(ctx, apiVersion), server);
    ctx.stdout.write(text);
    if (failure === undefined && error) throw error;
    if (failure !== undefined) throw failure;
    return 0;
  },
};
