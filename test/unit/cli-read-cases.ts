// The read-only command cases compared with docker 28.2.2's output (cli-read-docker-golden.json).
export interface ReadCase {
  /** Module under src/cli/commands and the CommandDef it exports. */
  module: string;
  command: string;
  /** The docker words ("container prune") and the arguments after them. */
  words: string[];
  argv: string[];
  stdin?: string;
  /** Compare stdout from this marker on (the client half of info/version is berth's own). */
  from?: string;
}

export const READ_CASES: ReadCase[] = [
  { module: 'ps', command: 'psCommand', words: ['ps'], argv: [] },
  { module: 'ps', command: 'psCommand', words: ['ps'], argv: ['-a', '--no-trunc'] },
  { module: 'ps', command: 'psCommand', words: ['ps'], argv: ['-q'] },
  { module: 'ps', command: 'psCommand', words: ['ps'], argv: ['-s'] },
  { module: 'ps', command: 'psCommand', words: ['ps'], argv: ['--format', 'table {{.ID}}\\t{{.Label "com.docker.compose.project"}}\\t{{.Mounts}}\\t{{.Networks}}\\t{{.LocalVolumes}}\\t{{.Size}}'] },
  { module: 'ps', command: 'psCommand', words: ['ps'], argv: ['--format', '{{.Names}} {{json .Labels}} {{.State}} {{.Image}}'] },
  { module: 'ps', command: 'psCommand', words: ['ps'], argv: ['--format', '{{.Foo}}'] },
  { module: 'ps', command: 'psCommand', words: ['ps'], argv: ['--format', '{{.ID'] },
  { module: 'images', command: 'imagesCommand', words: ['images'], argv: [] },
  { module: 'images', command: 'imagesCommand', words: ['images'], argv: ['--digests'] },
  { module: 'images', command: 'imagesCommand', words: ['images'], argv: ['-q', '--no-trunc'] },
  { module: 'images', command: 'imagesCommand', words: ['images'], argv: ['--format', 'table {{.Repository}}:{{.Tag}}\\t{{.Digest}}\\t{{.VirtualSize}}\\t{{.SharedSize}}\\t{{.Containers}}'] },
  { module: 'history', command: 'historyCommand', words: ['history'], argv: ['nginx:1.25'] },
  { module: 'history', command: 'historyCommand', words: ['history'], argv: ['--no-trunc', 'nginx:1.25'] },
  { module: 'history', command: 'historyCommand', words: ['history'], argv: ['-q', 'nginx:1.25'] },
  { module: 'top', command: 'topCommand', words: ['top'], argv: ['web'] },
  { module: 'diff', command: 'diffCommand', words: ['diff'], argv: ['web'] },
  { module: 'port', command: 'portCommand', words: ['port'], argv: ['web'] },
  { module: 'port', command: 'portCommand', words: ['port'], argv: ['web', '80'] },
  { module: 'port', command: 'portCommand', words: ['port'], argv: ['web', '443'] },
  { module: 'port', command: 'portCommand', words: ['port'], argv: ['web', 'x'] },
  { module: 'info', command: 'infoCommand', words: ['info'], argv: [], from: 'Server:' },
  { module: 'info', command: 'infoCommand', words: ['info'], argv: ['--format', '{{.ServerVersion}} {{.NCPU}} {{json .Plugins}}'] },
  { module: 'version', command: 'versionCommand', words: ['version'], argv: [], from: 'Server:' },
  { module: 'version', command: 'versionCommand', words: ['version'], argv: ['--format', '{{json .Server}}'] },
  { module: 'system', command: 'systemDfCommand', words: ['system', 'df'], argv: [] },
  { module: 'system', command: 'systemDfCommand', words: ['system', 'df'], argv: ['-v'] },
  { module: 'stats', command: 'statsCommand', words: ['stats'], argv: ['--no-stream', 'web'] },
  { module: 'stats', command: 'statsCommand', words: ['stats'], argv: ['--no-stream', '--format', 'json', 'web'] },
  { module: 'prune', command: 'containerPruneCommand', words: ['container', 'prune'], argv: [], stdin: 'y\n' },
  { module: 'prune', command: 'containerPruneCommand', words: ['container', 'prune'], argv: [], stdin: 'n\n' },
  { module: 'prune', command: 'imagePruneCommand', words: ['image', 'prune'], argv: ['-f'] },
  { module: 'system', command: 'systemPruneCommand', words: ['system', 'prune'], argv: ['--filter', 'label=a=b', '--filter', 'until=10m'], stdin: 'n\n' },
  { module: 'inspect', command: 'inspectCommand', words: ['inspect'], argv: ['web'] },
  { module: 'inspect', command: 'inspectCommand', words: ['inspect'], argv: ['--format', 'json', 'web'] },
  { module: 'inspect', command: 'inspectCommand', words: ['inspect'], argv: ['-f', '{{.State.Status}} {{json .Config.Labels}} {{.Config.Labels}} {{.HostConfig.PortBindings}} {{.Args}}', 'web'] },
  { module: 'inspect', command: 'inspectCommand', words: ['inspect'], argv: ['nope', 'web'] },
  { module: 'inspect', command: 'inspectCommand', words: ['inspect'], argv: ['-f', '{{.Nope}}', 'web'] },
  { module: 'inspect', command: 'inspectCommand', words: ['inspect'], argv: ['-f', '{{.Nope', 'web'] },
  { module: 'inspect', command: 'containerInspectCommand', words: ['container', 'inspect'], argv: ['nope'] },
  { module: 'inspect', command: 'imageInspectCommand', words: ['image', 'inspect'], argv: ['nope'] },
  { module: 'events', command: 'eventsCommand', words: ['events'], argv: ['--until', '1'] },
  { module: 'events', command: 'eventsCommand', words: ['events'], argv: ['--until', '1', '--format', '{{.Type}} {{.Actor.Attributes.name}} {{json .}}'] },
  { module: 'events', command: 'eventsCommand', words: ['events'], argv: ['--format', '{{.Nope}}'] },
];

/** The case's name in the golden file: the command line, and the answer typed at a prompt. */
export const caseName = (c: ReadCase): string => [...c.words, ...c.argv].join(' ') + (c.stdin ? ` <<< ${JSON.stringify(c.stdin)}` : '');
