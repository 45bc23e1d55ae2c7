// `berth completion bash|zsh`: completion scripts generated from the CommandDefs in this
// folder (their spellings, flags and summaries); container and image arguments are completed
// by asking berth itself (`berth ps -a --format {{.Names}}`, `berth images --format …`).
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StatusError, type CommandDef, type FlagSpec } from '../command.js';

/** Docker's global options (berth's main.ts accepts the same). */
const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string', usage: 'Location of client config files' },
  { name: 'debug', short: 'D', type: 'bool', usage: 'Enable debug mode' },
  { name: 'host', short: 'H', type: 'list', usage: 'Daemon socket to connect to' },
  { name: 'log-level', short: 'l', type: 'string', usage: 'Set the logging level' },
  { name: 'tls', type: 'bool', usage: 'Use TLS; implied by --tlsverify' },
  { name: 'tlscacert', type: 'string', usage: 'Trust certs signed only by this CA' },
  { name: 'tlscert', type: 'string', usage: 'Path to TLS certificate file' },
  { name: 'tlskey', type: 'string', usage: 'Path to TLS key file' },
  { name: 'tlsverify', type: 'bool', usage: 'Use TLS and verify the remote' },
  { name: 'version', short: 'v', type: 'bool', usage: 'Print version information and quit' },
];

/** docker's management commands and their subcommands, each with the top-level command it equals. */
const MANAGEMENT: Record<string, { summary: string; subcommands: Record<string, string> }> = {
  container: {
    summary: 'Manage containers',
    subcommands: {
      attach: 'attach', commit: 'commit', cp: 'cp', create: 'create', diff: 'diff', exec: 'exec', export: 'export',
      inspect: 'container inspect', kill: 'kill', logs: 'logs', ls: 'ps', pause: 'pause', port: 'port',
      prune: 'container prune', rename: 'rename', restart: 'restart', rm: 'rm', run: 'run', start: 'start', stats: 'stats',
      stop: 'stop', top: 'top', unpause: 'unpause', update: 'update', wait: 'wait',
    },
  },
  image: {
    summary: 'Manage images',
    subcommands: {
      history: 'history', import: 'import', inspect: 'image inspect', load: 'load', ls: 'images', prune: 'image prune',
      pull: 'pull', push: 'push', rm: 'rmi', save: 'save', tag: 'tag',
    },
  },
  network: {
    summary: 'Manage networks',
    subcommands: {
      connect: 'network connect', create: 'network create', disconnect: 'network disconnect', inspect: 'network inspect',
      ls: 'network ls', prune: 'network prune', rm: 'network rm',
    },
  },
  volume: {
    summary: 'Manage volumes',
    subcommands: { create: 'volume create', inspect: 'volume inspect', ls: 'volume ls', prune: 'volume prune', rm: 'volume rm' },
  },
  system: { summary: 'Manage berth', subcommands: { df: 'system df', events: 'events', info: 'info', prune: 'system prune' } },
};

/** What a command's positional arguments are, from its usage line. */
type ArgKind = 'container' | 'image' | 'network' | 'volume' | 'file' | 'none';

function argKind(def: CommandDef): ArgKind {
  const usage = def.usage;
  if (/\bCONTAINER\b/.test(usage)) return 'container';
  if (/ NETWORK \[NETWORK\.\.\.\]/.test(usage)) return 'network';
  if (/ VOLUME \[VOLUME\.\.\.\]/.test(usage)) return 'volume';
  if (/\bIMAGE\b|REPOSITORY|SOURCE_IMAGE/.test(usage)) return 'image';
  if (/\b(PATH|FILE|SRC_PATH)\b/.test(usage)) return 'file';
  return 'none';
}

function isCommandDef(v: unknown): v is CommandDef {
  return typeof v === 'object' && v !== null && typeof (v as CommandDef).name === 'string' && typeof (v as CommandDef).run === 'function' && Array.isArray((v as CommandDef).flags);
}

/** Every CommandDef exported by the modules beside this one. */
export async function loadCommandDefs(): Promise<CommandDef[]> {
  const dir = dirname(fileURLToPath(import.meta.url));
  const defs: CommandDef[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.js')) continue;
    const mod = (await import(pathToFileURL(`${dir}/${file}`).href)) as Record<string, unknown>;
    for (const value of Object.values(mod)) if (isCommandDef(value) && !defs.includes(value)) defs.push(value);
  }
  return defs;
}

interface Spelled {
  /** "ps", "container ls" */
  spelling: string;
  def: CommandDef;
}

/** Every way to type each command: its name, its aliases, and the management forms. */
export function spellings(defs: CommandDef[]): Spelled[] {
  const byName = new Map<string, CommandDef>();
  for (const def of defs) for (const n of [def.name, ...(def.aliases ?? [])]) if (!byName.has(n)) byName.set(n, def);
  for (const [group, m] of Object.entries(MANAGEMENT)) {
    for (const [sub, target] of Object.entries(m.subcommands)) {
      const def = byName.get(target);
      if (def && !byName.has(`${group} ${sub}`)) byName.set(`${group} ${sub}`, def);
    }
  }
  return [...byName.entries()].map(([spelling, def]) => ({ spelling, def })).sort((a, b) => (a.spelling < b.spelling ? -1 : 1));
}

const flagWords = (flags: FlagSpec[]): string[] =>
  flags.filter((f) => !f.hidden).flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]).concat('--help');

const valueFlagWords = (flags: FlagSpec[]): string[] =>
  flags.filter((f) => f.type !== 'bool').flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);

const firstLine = (s: string): string => s.split('\n')[0] ?? '';

export function bashScript(all: Spelled[]): string {
  const topWords = [...new Set(all.map((s) => s.spelling.split(' ')[0] as string))].concat('completion').sort();
  const groups = Object.keys(MANAGEMENT);
  let cases = '';
  for (const { spelling, def } of all) {
    cases += `    '${spelling}') flags='${flagWords(def.flags).join(' ')}'; values='${valueFlagWords(def.flags).join(' ')}'; kind=${argKind(def)} ;;\n`;
  }
  let groupCases = '';
  for (const g of groups) {
    const subs = all.filter((s) => s.spelling.startsWith(`${g} `)).map((s) => s.spelling.slice(g.length + 1));
    groupCases += `    ${g}) COMPREPLY=( $(compgen -W '${subs.join(' ')} --help' -- "$cur") ); return ;;\n`;
  }
  return `# bash completion for berth                                  -*- shell-script -*-
# Generated by \`berth completion bash\`. Load it with:
#   source <(berth completion bash)

__berth_containers() {
  COMPREPLY=( $(compgen -W "$(berth ps -a --format '{{.Names}}' 2>/dev/null)" -- "$cur") )
}

__berth_images() {
  COMPREPLY=( $(compgen -W "$(berth images --format '{{if ne .Tag "<none>"}}{{.Repository}}:{{.Tag}}{{else}}{{.ID}}{{end}}' 2>/dev/null)" -- "$cur") )
}

__berth_networks() {
  COMPREPLY=( $(compgen -W "$(berth network ls --format '{{.Name}}' 2>/dev/null)" -- "$cur") )
}

__berth_volumes() {
  COMPREPLY=( $(compgen -W "$(berth volume ls -q 2>/dev/null)" -- "$cur") )
}

_berth() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local global_values='${valueFlagWords(GLOBAL_FLAGS).join(' ')}'
  local cmd='' sub='' i w skip=''
  for (( i = 1; i < COMP_CWORD; i++ )); do
    w="\${COMP_WORDS[i]}"
    if [[ -n $skip ]]; then skip=''; continue; fi
    case "$w" in
      -*=*) continue ;;
      -*) [[ -z $cmd && " $global_values " == *" $w "* ]] && skip=1; continue ;;
    esac
    if [[ -z $cmd ]]; then cmd="$w"
    elif [[ -z $sub && " ${groups.join(' ')} " == *" $cmd "* ]]; then sub="$w"
    fi
  done
  if [[ -z $cmd ]]; then
    if [[ " $global_values " == *" $prev "* ]]; then return; fi
    COMPREPLY=( $(compgen -W '${topWords.join(' ')} ${flagWords(GLOBAL_FLAGS).join(' ')}' -- "$cur") )
    return
  fi
  if [[ $cmd == completion ]]; then COMPREPLY=( $(compgen -W 'bash zsh' -- "$cur") ); return; fi
  local key="$cmd"
  if [[ -z $sub ]]; then
    case "$cmd" in
${groupCases}    esac
  else
    key="$cmd $sub"
  fi
  local flags='' values='' kind=none
  case "$key" in
${cases}    *) return ;;
  esac
  if [[ " $values " == *" $prev "* ]]; then return; fi
  if [[ $cur == -* ]]; then COMPREPLY=( $(compgen -W "$flags" -- "$cur") ); return; fi
  case $kind in
    container) __berth_containers ;;
    image) __berth_images ;;
    network) __berth_networks ;;
    volume) __berth_volumes ;;
    file) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
  esac
}

complete -F _berth berth
`;
}

/** A description safe inside a single-quoted zsh _arguments spec. */
function zshDescription(text: string): string {
  return firstLine(text).replace(/\\/g, '\\\\').replace(/[[\]:]/g, (c) => `\\${c}`).replace(/'/g, "'\\''");
}

function zshFlagSpecs(flags: FlagSpec[]): string[] {
  const specs: string[] = [];
  for (const f of flags.filter((x) => !x.hidden)) {
    const desc = zshDescription(f.usage);
    const repeat = f.type === 'list' || f.type === 'map' ? '*' : '';
    const value = f.type === 'bool' ? '' : `:${f.valueName ?? f.type}:`;
    specs.push(`'${repeat}--${f.name}[${desc}]${value}'`);
    if (f.short) specs.push(`'${repeat}-${f.short}[${desc}]${value}'`);
  }
  return specs;
}

export function zshScript(all: Spelled[]): string {
  const top = new Map<string, string>();
  for (const { spelling, def } of all) {
    const word = spelling.split(' ')[0] as string;
    if (!spelling.includes(' ')) top.set(word, def.summary);
  }
  for (const [g, m] of Object.entries(MANAGEMENT)) top.set(g, m.summary);
  top.set('completion', 'Generate the autocompletion script for the specified shell');
  const describe = (entries: [string, string][]): string =>
    entries.map(([w, d]) => `'${w.replace(/:/g, '\\:')}:${firstLine(d).replace(/'/g, "'\\''")}'`).join(' ');
  let cases = '';
  for (const { spelling, def } of all) {
    const positional = { container: "'*:container:__berth_containers'", image: "'*:image:__berth_images'", network: "'*:network:__berth_networks'", volume: "'*:volume:__berth_volumes'", file: "'*:file:_files'", none: '' }[argKind(def)];
    cases += `    '${spelling}') _arguments -s ${[...zshFlagSpecs(def.flags), positional].filter(Boolean).join(' ')} ;;\n`;
  }
  let groupCases = '';
  for (const g of Object.keys(MANAGEMENT)) {
    const subs = all.filter((s) => s.spelling.startsWith(`${g} `)).map((s): [string, string] => [s.spelling.slice(g.length + 1), s.def.summary]);
    groupCases += `      ${g}) local -a subs; subs=(${describe(subs)}); _describe -t commands 'berth ${g} command' subs; return ;;\n`;
  }
  return `#compdef berth
# zsh completion for berth. Generated by \`berth completion zsh\`. Load it with:
#   source <(berth completion zsh)      (or save it as _berth in a directory on $fpath)

__berth_containers() {
  local -a names
  names=(\${(f)"$(berth ps -a --format '{{.Names}}' 2>/dev/null)"})
  _describe -t containers 'container' names
}

__berth_images() {
  local -a names
  names=(\${(f)"$(berth images --format '{{if ne .Tag "<none>"}}{{.Repository}}:{{.Tag}}{{else}}{{.ID}}{{end}}' 2>/dev/null)"})
  _describe -t images 'image' names
}

__berth_networks() {
  local -a names
  names=(\${(f)"$(berth network ls --format '{{.Name}}' 2>/dev/null)"})
  _describe -t networks 'network' names
}

__berth_volumes() {
  local -a names
  names=(\${(f)"$(berth volume ls -q 2>/dev/null)"})
  _describe -t volumes 'volume' names
}

_berth() {
  local cmd='' sub='' i w skip=''
  local -a global_values
  global_values=(${valueFlagWords(GLOBAL_FLAGS).join(' ')})
  for (( i = 2; i < CURRENT; i++ )); do
    w=\${words[i]}
    if [[ -n $skip ]]; then skip=''; continue; fi
    if [[ $w == -*=* ]]; then continue; fi
    if [[ $w == -* ]]; then [[ -z $cmd && \${global_values[(Ie)$w]} -gt 0 ]] && skip=1; continue; fi
    if [[ -z $cmd ]]; then cmd=$w
    elif [[ -z $sub && $cmd == (${Object.keys(MANAGEMENT).join('|')}) ]]; then sub=$w
    fi
  done
  if [[ -z $cmd ]]; then
    if [[ \${words[CURRENT]} == -* ]]; then
      _arguments ${zshFlagSpecs(GLOBAL_FLAGS).join(' ')}
      return
    fi
    local -a cmds
    cmds=(${describe([...top.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))})
    _describe -t commands 'berth command' cmds
    return
  fi
  if [[ $cmd == completion ]]; then _values 'shell' bash zsh; return; fi
  local key=$cmd
  if [[ -z $sub ]]; then
    case $cmd in
${groupCases}    esac
  else
    key="$cmd $sub"
  fi
  # _arguments sees the words from the command on.
  local skipped=$(( \${words[(i)$cmd]} - 1 ))
  [[ -n $sub ]] && skipped=$(( \${words[(i)$sub]} - 1 ))
  shift $skipped words
  (( CURRENT -= skipped ))
  case $key in
${cases}  esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _berth "$@"
else
  compdef _berth berth
fi
`;
}

export const completionCommand: CommandDef = {
  name: 'completion',
  usage: 'docker completion [bash|zsh]',
  summary: 'Generate the autocompletion script for the specified shell',
  minArgs: 1,
  maxArgs: 1,
  flags: [],
  async run(ctx, args) {
    const shell = args[0];
    if (shell !== 'bash' && shell !== 'zsh') throw new StatusError(1, `unsupported shell "${shell}": berth completes bash and zsh`);
    const all = spellings(await loadCommandDefs());
    ctx.stdout.write(shell === 'bash' ? bashScript(all) : zshScript(all));
    return 0;
  },
};
