// The Dockerfile parser: directives, continuations, every instruction's forms and flags,
// and located errors. Many cases come from buildkit's parser testfiles.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerfile, parseInstructions, type Instruction } from '../../src/build/dockerfile/index.js';
import { isBerthError } from '../../src/util/errors.js';

const parse = parseDockerfile;

/** The instructions of a one-stage Dockerfile `FROM scratch` + text. */
function insts(text: string): Instruction[] {
  const df = parse(`FROM scratch\n${text}`);
  assert.equal(df.stages.length, 1);
  return df.stages[0]?.instructions ?? [];
}

function one(text: string): Instruction {
  const all = insts(text);
  assert.equal(all.length, 1, `expected one instruction in ${JSON.stringify(text)}`);
  return all[0] as Instruction;
}

function errorOf(text: string, file?: string): string {
  try {
    parse(text, file === undefined ? {} : { file });
  } catch (err) {
    assert.ok(isBerthError(err, 'InvalidArgument'), `not an InvalidArgument BerthError: ${String(err)}`);
    return err.message;
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

function shellCommands(text: string): string[] {
  return insts(text).map((i) => (i.kind === 'RUN' && i.cmd.form === 'shell' ? i.cmd.command : `<${i.kind}>`));
}

function envPairs(text: string): [string, string, boolean][] {
  return insts(text).flatMap((i) => (i.kind === 'ENV' || i.kind === 'LABEL' ? i.pairs.map((p): [string, string, boolean] => [p.key, p.value, p.legacy]) : []));
}

describe('parser directives', () => {
  it('reads syntax, escape and check at the top, case-insensitively', () => {
    const df = parse('# syntax=docker/dockerfile:1.7\n#  ESCAPE = `\n# Check=skip=JSONArgsRecommended\nFROM x\n');
    assert.deepEqual(df.directives, { syntax: 'docker/dockerfile:1.7', escape: '`', check: 'skip=JSONArgsRecommended' });
  });

  it('defaults to the backslash and nothing else', () => {
    assert.deepEqual(parse('FROM x').directives, { escape: '\\' });
  });

  it('ignores directives after a comment, a blank line or an instruction (escape-after-comment)', () => {
    const afterComment = parse('# Comment here.\n# escape = `\n\nFROM image\nENV GOPATH \\\n\\go');
    assert.equal(afterComment.directives.escape, '\\');
    assert.deepEqual(afterComment.stages[0]?.instructions[0]?.kind === 'ENV' && afterComment.stages[0].instructions[0].pairs[0], { key: 'GOPATH', value: '\\go', legacy: true });
    assert.equal(parse('\n# escape=`\nFROM x').directives.escape, '\\');
    assert.equal(parse('FROM x\n# escape=`\n').directives.escape, '\\');
    assert.equal(parse('# unknown=1\n# escape=`\nFROM x').directives.escape, '\\');
  });

  it('accepts directives without a blank line after them (escape-nonewline)', () => {
    const df = parse('# escape = `\n# There is no white space line after the directives.\nFROM image\nLABEL maintainer foo@bar.com\nENV GOPATH `\n\\go\n');
    const env = df.stages[0]?.instructions[1];
    assert.deepEqual(env?.kind === 'ENV' && env.pairs, [{ key: 'GOPATH', value: '\\go', legacy: true }]);
  });

  it('rejects a repeated directive and a bad escape token, with the line', () => {
    assert.equal(errorOf('# escape=`\n# escape=\\\nFROM x'), 'Dockerfile:2: only one escape parser directive can be used');
    assert.equal(errorOf('# syntax=a\n# SYNTAX=b\nFROM x'), 'Dockerfile:2: only one syntax parser directive can be used');
    assert.match(errorOf('# escape=x\nFROM x'), /^Dockerfile:1: invalid escape token 'x' does not match ` or \\$/);
  });

  it('skips a UTF-8 BOM before the directives', () => {
    assert.equal(parse('\uFEFF# escape=`\nFROM x').directives.escape, '`');
    assert.equal(parse('\uFEFFFROM x').stages[0]?.from.image, 'x');
  });

  it('with escape=` continues lines with a backtick and keeps backslashes (Windows paths)', () => {
    const df = parse('# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo hi\nWORKDIR c:\\\nCOPY a\\b c:\\dest\\\n');
    const [run, wd, copy] = df.stages[0]?.instructions ?? [];
    assert.deepEqual(run?.kind === 'RUN' && run.cmd, { form: 'shell', command: 'dir c:\\   && echo hi' });
    assert.deepEqual(run?.loc, { file: 'Dockerfile', line: 3, endLine: 4 });
    assert.equal(wd?.kind === 'WORKDIR' && wd.path, 'c:\\');
    assert.deepEqual(copy?.kind === 'COPY' && [copy.sources, copy.dest], [['a\\b'], 'c:\\dest\\']);
  });
});

describe('line continuations', () => {
  it('joins lines like buildkit testfiles/continueIndent', () => {
    const text = [
      'RUN echo hello\\', '  world\\', '  goodnight  \\', '  moon\\', '  light\\', 'ning',
      'RUN echo hello  \\', '  world',
      'RUN echo hello  \\', 'world',
      'RUN echo hello \\', 'goodbye\\', 'frog',
      'RUN echo hello  \\  ', 'world',
      'RUN echo hi \\', ' \\', ' world \\', '\\', ' good\\', '\\', 'night',
      'RUN echo goodbye\\', 'frog',
      'RUN echo good\\', 'bye\\', 'frog',
      '',
      'RUN echo hello \\', '# this is a comment', '', '# this is a comment with a blank line surrounding it', '', 'this is some more useful stuff',
    ].join('\n');
    assert.deepEqual(shellCommands(text), [
      'echo hello  world  goodnight    moon  lightning',
      'echo hello    world',
      'echo hello  world',
      'echo hello goodbyefrog',
      'echo hello  world',
      'echo hi   world  goodnight',
      'echo goodbyefrog',
      'echo goodbyefrog',
      'echo hello this is some more useful stuff',
    ]);
  });

  it('keeps escaped trailing escapes (testfiles/trailing-backslash)', () => {
    const text = 'ENV A path\nENV B another\\\\path\nENV C trailing\\\\backslash\\\\\nENV D This should not be appended to C\nENV E hello\\\n\\\nworld\nENV F hello\\\n \\\nworld\nENV G hello \\\n\\\nworld\n';
    assert.deepEqual(envPairs(text), [
      ['A', 'path', true],
      ['B', 'another\\\\path', true],
      ['C', 'trailing\\\\backslash\\\\', true],
      ['D', 'This should not be appended to C', true],
      ['E', 'helloworld', true],
      ['F', 'hello world', true],
      ['G', 'hello world', true],
    ]);
  });

  it('handles escapes and empty continuation lines (testfiles/escapes)', () => {
    const all = insts('LABEL maintainer Erik \\\\Hollensbe <erik@hollensbe.org>\\"\n\nRUN apt-get \\update && \\\n  apt-get \\"install znc -y\nADD \\conf\\\\" /.znc\n\nRUN foo \\\n\nbar \\\n\nbaz\n\nCMD [ "\\/usr\\\\\\"/bin/znc", "-f", "-r" ]\n');
    assert.deepEqual(all.map((i) => i.kind), ['LABEL', 'RUN', 'ADD', 'RUN', 'CMD']);
    const [label, run1, add, run2, cmd] = all;
    assert.deepEqual(label?.kind === 'LABEL' && label.pairs, [{ key: 'maintainer', value: 'Erik \\\\Hollensbe <erik@hollensbe.org>\\"', legacy: true }]);
    assert.deepEqual(run1?.kind === 'RUN' && run1.cmd, { form: 'shell', command: 'apt-get \\update &&   apt-get \\"install znc -y' });
    assert.deepEqual(add?.kind === 'ADD' && [add.sources, add.dest], [['\\conf\\\\"'], '/.znc']);
    assert.deepEqual(run2?.kind === 'RUN' && run2.cmd, { form: 'shell', command: 'foo bar baz' });
    assert.deepEqual(run2?.loc, { file: 'Dockerfile', line: 8, endLine: 12 });
    assert.deepEqual(cmd?.kind === 'CMD' && cmd.cmd, { form: 'exec', args: ['/usr\\"/bin/znc', '-f', '-r'] });
  });

  it('ends a continuation at the end of the file (testfiles/continue-at-eof)', () => {
    assert.deepEqual(shellCommands('RUN something \\'), ['something']);
    const df = parse('FROM alpine:3.5\n\nRUN something \\');
    assert.deepEqual(df.stages[0]?.instructions[0]?.loc, { file: 'Dockerfile', line: 3, endLine: 3 });
  });

  it('skips comments inside a continuation even when they end with the escape (testfiles/lk4d4)', () => {
    const all = insts('# RUN Commands \\\n# linebreak in comment \\\nRUN ["ls", "-la"]\nRUN    sh -c \'echo root:testpass \\\n        > /tmp/passwd\'\n');
    assert.deepEqual(all.map((i) => i.kind === 'RUN' && i.cmd), [
      { form: 'exec', args: ['ls', '-la'] },
      { form: 'shell', command: "sh -c 'echo root:testpass         > /tmp/passwd'" },
    ]);
    assert.deepEqual(all[1]?.loc, { file: 'Dockerfile', line: 5, endLine: 6 });
  });

  it('reads CRLF files and keeps the original line joined without escapes', () => {
    const df = parse('FROM a\r\nRUN echo \\\r\n    hi \\\r\n  # c\r\n\r\n    there\r\nUSER app\r\n');
    const [run, user] = df.stages[0]?.instructions ?? [];
    assert.equal(run?.original, 'RUN echo     hi     there');
    assert.deepEqual(run?.loc, { file: 'Dockerfile', line: 2, endLine: 6 });
    assert.equal(user?.kind === 'USER' && user.user, 'app');
    assert.equal(user?.loc.line, 7);
  });

  it('treats leading white space and indentation as insignificant', () => {
    const df = parse('   FROM a\n\t  # comment\n   run   echo  hi  \n');
    assert.deepEqual(df.stages[0]?.instructions[0]?.kind === 'RUN' && df.stages[0].instructions[0].cmd, { form: 'shell', command: 'echo  hi' });
    assert.equal(df.stages[0]?.instructions[0]?.original, 'run   echo  hi');
  });
});

describe('FROM', () => {
  it('parses image, lower-cased AS name and --platform', () => {
    const df = parse('FROM --platform=$BUILDPLATFORM golang:1.22 As Builder\nfrom scratch\n');
    assert.deepEqual(df.stages[0]?.from, {
      kind: 'FROM',
      loc: { file: 'Dockerfile', line: 1, endLine: 1 },
      original: 'FROM --platform=$BUILDPLATFORM golang:1.22 As Builder',
      flags: { platform: '$BUILDPLATFORM' },
      image: 'golang:1.22',
      name: 'builder',
    });
    assert.equal(df.stages[0]?.name, 'builder');
    assert.equal(df.stages[1]?.name, undefined);
    assert.deepEqual(df.stages.map((s) => s.index), [0, 1]);
  });

  it('rejects wrong argument counts and invalid stage names', () => {
    assert.equal(errorOf('FROM a b'), 'Dockerfile:1: FROM requires either one or three arguments');
    assert.equal(errorOf('FROM'), 'Dockerfile:1: FROM requires either one or three arguments');
    assert.equal(errorOf('FROM a AS b c'), 'Dockerfile:1: FROM requires either one or three arguments');
    assert.equal(errorOf('FROM a AS 1st'), 'Dockerfile:1: invalid name for build stage: "1st", name can\'t start with a number or contain symbols');
    assert.match(errorOf('FROM a AS b$c'), /invalid name for build stage: "b\$c"/);
    assert.equal(errorOf('FROM --platfrom=x a'), 'Dockerfile:1: unknown flag: --platfrom for FROM (did you mean --platform?)');
  });
});

describe('RUN, CMD, ENTRYPOINT and SHELL', () => {
  it('takes a JSON string array as exec form and anything else as shell form', () => {
    const cmds = insts([
      'CMD []', 'CMD [""]', 'CMD ["a"]', 'CMD ["a","b"]', 'CMD [ "a", "b" ]', 'CMD [\t"a",\t"b"\t]', 'CMD\t[\t"a",\t"b"\t]\t',
      'CMD ["abc 123", "♥", "☃", "\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000"]',
      'CMD "[\\"echo\\", \\"Phew\\"]"', "CMD ['echo','single quotes are invalid JSON']", 'CMD ["echo", "unterminated"', 'CMD ["a"] b',
      'CMD',
    ].join('\n')).map((i) => i.kind === 'CMD' && i.cmd);
    assert.deepEqual(cmds, [
      { form: 'exec', args: [] },
      { form: 'exec', args: [''] },
      { form: 'exec', args: ['a'] },
      { form: 'exec', args: ['a', 'b'] },
      { form: 'exec', args: ['a', 'b'] },
      { form: 'exec', args: ['a', 'b'] },
      { form: 'exec', args: ['a', 'b'] },
      { form: 'exec', args: ['abc 123', '♥', '☃', '" \\ / \b \f \n \r \t \u0000'] },
      { form: 'shell', command: '"[\\"echo\\", \\"Phew\\"]"' },
      { form: 'shell', command: "['echo','single quotes are invalid JSON']" },
      { form: 'shell', command: '["echo", "unterminated"' },
      { form: 'shell', command: '["a"] b' },
      { form: 'exec', args: [] },
    ]);
  });

  it('rejects JSON arrays of non-strings instead of falling back', () => {
    assert.equal(errorOf('FROM x\nRUN ["a", 1]'), 'Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only');
    assert.match(errorOf('FROM x\nENTRYPOINT [null]'), /arrays must be comprised of strings only/);
  });

  it('parses ENTRYPOINT like CMD', () => {
    assert.deepEqual(one('ENTRYPOINT [ "/usr/bin/redis-server" ]'), {
      kind: 'ENTRYPOINT', loc: { file: 'Dockerfile', line: 2, endLine: 2 }, original: 'ENTRYPOINT [ "/usr/bin/redis-server" ]', flags: {},
      cmd: { form: 'exec', args: ['/usr/bin/redis-server'] },
    });
    const shell = one('entrypoint exec nginx -g "daemon off;"');
    assert.deepEqual(shell.kind === 'ENTRYPOINT' && shell.cmd, { form: 'shell', command: 'exec nginx -g "daemon off;"' });
  });

  it('parses RUN flags: repeatable --mount, --network, --security', () => {
    const run = one('RUN --mount=type=cache,target=/root/.cache --mount="type=secret,id=tok" --network=none --security=insecure make all');
    assert.deepEqual(run.kind === 'RUN' && [run.flags, run.cmd, run.heredocs], [
      { mount: ['type=cache,target=/root/.cache', 'type=secret,id=tok'], network: 'none', security: 'insecure' },
      { form: 'shell', command: 'make all' },
      [],
    ]);
    const exec = one('RUN --network=host ["a"]');
    assert.deepEqual(exec.kind === 'RUN' && [exec.flags, exec.cmd], [{ mount: [], network: 'host' }, { form: 'exec', args: ['a'] }]);
  });

  it('rejects bad RUN flag values and variables in a mount from=', () => {
    assert.equal(errorOf('FROM x\nRUN --network=bridge true'), 'Dockerfile:2: invalid network mode "bridge"');
    assert.equal(errorOf('FROM x\nRUN --security=root true'), 'Dockerfile:2: security "root" is not valid');
    assert.equal(errorOf('FROM x\nRUN --network true'), 'Dockerfile:2: missing a value on flag: --network');
    assert.equal(errorOf('FROM x\nRUN --network=none --network=host true'), 'Dockerfile:2: duplicate flag specified: --network');
    assert.equal(errorOf('FROM x\nRUN --mount=type=bind,from=$STAGE,target=/x true'), "Dockerfile:2: 'from' doesn't support variable expansion, define alias stage instead");
    assert.equal(errorOf('FROM x\nRUN --mont=type=bind true'), 'Dockerfile:2: unknown flag: --mont for RUN (did you mean --mount?)');
    assert.equal(errorOf('FROM x\nRUN --foo true'), 'Dockerfile:2: unknown flag: --foo for RUN');
  });

  it('requires SHELL to be a non-empty JSON array', () => {
    const sh = one('SHELL ["powershell", "-command"]');
    assert.deepEqual(sh.kind === 'SHELL' && sh.shell, ['powershell', '-command']);
    assert.equal(errorOf('FROM x\nSHELL powershell -command'), 'Dockerfile:2: SHELL requires the arguments to be in JSON form');
    assert.equal(errorOf('FROM x\nSHELL []'), 'Dockerfile:2: SHELL requires at least one argument');
    assert.equal(errorOf('FROM x\nSHELL'), 'Dockerfile:2: SHELL requires at least one argument');
  });

  it('rejects flags on instructions that take none (testfiles/flags)', () => {
    assert.equal(errorOf('FROM x\nCMD --doit [ "a", "b" ]'), 'Dockerfile:2: unknown flag: --doit for CMD');
    assert.deepEqual(shellCommands('RUN -- --weird'), ['--weird']);
  });
});

describe('ENV and LABEL', () => {
  it('keeps values as written for later expansion (testfiles/env)', () => {
    const text = [
      'ENV name value', 'ENV name=value', 'ENV name=value name2=value2', 'ENV name="value value1"', 'ENV name=value\\ value2',
      'ENV name="value\'quote space\'value2"', 'ENV name=\'value"double quote"value2\'', 'ENV name=value\\ value2 name2=value2\\ value3',
      'ENV name="a\\"b"', 'ENV name="a\\\'b"', "ENV name='a\\'b'", "ENV name='a\\'b''", "ENV name='a\\\"b'", 'ENV name="\'\'"',
      'ENV name=value \\', '    name1=value1 \\', '    name2="value2a \\', '           value2b" \\', '    name3="value3a\\n\\"value3b\\"" \\', '\tname4="value4a\\\\nvalue4b" \\',
    ].join('\n');
    assert.deepEqual(envPairs(text), [
      ['name', 'value', true],
      ['name', 'value', false],
      ['name', 'value', false], ['name2', 'value2', false],
      ['name', '"value value1"', false],
      ['name', 'value\\ value2', false],
      ['name', '"value\'quote space\'value2"', false],
      ['name', '\'value"double quote"value2\'', false],
      ['name', 'value\\ value2', false], ['name2', 'value2\\ value3', false],
      ['name', '"a\\"b"', false],
      ['name', '"a\\\'b"', false],
      ['name', "'a\\'b'", false],
      ['name', "'a\\'b''", false],
      ['name', "'a\\\"b'", false],
      ['name', '"\'\'"', false],
      ['name', 'value', false], ['name1', 'value1', false], ['name2', '"value2a            value2b"', false],
      ['name3', '"value3a\\n\\"value3b\\""', false], ['name4', '"value4a\\\\nvalue4b"', false],
    ]);
  });

  it('parses the legacy one-pair form with spaces and quotes kept (testfiles/lk4d4, kartar)', () => {
    assert.deepEqual(envPairs('ENV SCUBA 1 DUBA 3\nENV SCUBA "1 DUBA 3"\nLABEL maintainer James Turnbull "james@example.com"'), [
      ['SCUBA', '1 DUBA 3', true],
      ['SCUBA', '"1 DUBA 3"', true],
      ['maintainer', 'James Turnbull "james@example.com"', true],
    ]);
  });

  it('reports BuildKit errors for malformed pairs', () => {
    assert.equal(errorOf('FROM x\nENV'), 'Dockerfile:2: ENV requires at least one argument');
    assert.equal(errorOf('FROM x\nLABEL'), 'Dockerfile:2: LABEL requires at least one argument');
    assert.equal(errorOf('FROM x\nENV onlykey'), 'Dockerfile:2: ENV must have two arguments');
    assert.equal(errorOf('FROM x\nENV =x'), 'Dockerfile:2: ENV names can not be blank');
    assert.equal(errorOf('FROM x\nLABEL a=b c'), 'Dockerfile:2: Syntax error - can\'t find = in "c". Must be of the form: name=value');
  });
});

describe('ARG', () => {
  it('allows several definitions per line, with and without defaults (testfiles/args)', () => {
    const df = parse('ARG foo bar=baz\nFROM ubuntu\nARG abc="123 456" def empty=\n');
    assert.deepEqual(df.metaArgs.map((a) => a.args), [[{ key: 'foo' }, { key: 'bar', value: 'baz' }]]);
    const arg = df.stages[0]?.instructions[0];
    assert.deepEqual(arg?.kind === 'ARG' && arg.args, [{ key: 'abc', value: '"123 456"' }, { key: 'def' }, { key: 'empty', value: '' }]);
  });

  it('rejects an empty ARG and blank names', () => {
    assert.equal(errorOf('FROM x\nARG'), 'Dockerfile:2: ARG requires at least one argument');
    assert.equal(errorOf('ARG =1\nFROM x'), 'Dockerfile:1: ARG names can not be blank');
  });
});

describe('ADD and COPY', () => {
  it('parses shell and JSON forms (testfiles/ADD-COPY-with-JSON)', () => {
    const all = insts('COPY\t.\t/go/src/github.com/docker/docker\nADD\t\t.\t/\nADD\t\t[ "vimrc", "/tmp" ]\nCOPY\t[ "test file", "/tmp" ]\nADD\t\t[ "test file", "/tmp/test file" ]\nCOPY a b c /dir/\n');
    assert.deepEqual(all.map((i) => (i.kind === 'ADD' || i.kind === 'COPY' ? [i.kind, i.sources, i.dest] : [])), [
      ['COPY', ['.'], '/go/src/github.com/docker/docker'],
      ['ADD', ['.'], '/'],
      ['ADD', ['vimrc'], '/tmp'],
      ['COPY', ['test file'], '/tmp'],
      ['ADD', ['test file'], '/tmp/test file'],
      ['COPY', ['a', 'b', 'c'], '/dir/'],
    ]);
  });

  it('parses every COPY flag, raw', () => {
    const copy = one('COPY --from=build --chown=$UID:app --chmod=0755 --link --parents --exclude=*.md --exclude=.git ./src /app/');
    assert.deepEqual(copy.kind === 'COPY' && copy.flags, {
      from: 'build', chown: '$UID:app', chmod: '0755', link: true, parents: true, exclude: ['*.md', '.git'],
    });
    const plain = one('COPY a b');
    assert.deepEqual(plain.kind === 'COPY' && plain.flags, { link: false, parents: false, exclude: [] });
    const off = one('COPY --link=false --parents=TRUE a b');
    assert.deepEqual(off.kind === 'COPY' && [off.flags.link, off.flags.parents], [false, true]);
  });

  it('parses every ADD flag, raw', () => {
    const add = one('ADD --chown=1:1 --chmod=644 --link --keep-git-dir=true --checksum=sha256:abc --exclude=x --unpack=false https://x/y.tar /dst');
    assert.deepEqual(add.kind === 'ADD' && add.flags, {
      chown: '1:1', chmod: '644', checksum: 'sha256:abc', link: true, keepGitDir: true, unpack: false, exclude: ['x'],
    });
    const plain = one('ADD a b');
    assert.deepEqual(plain.kind === 'ADD' && plain.flags, { link: false, exclude: [] });
  });

  it('rejects flags of the other instruction, bad booleans and missing values', () => {
    assert.equal(errorOf('FROM x\nADD --from=a b c'), 'Dockerfile:2: unknown flag: --from for ADD');
    assert.equal(errorOf('FROM x\nCOPY --checksum=a b c'), 'Dockerfile:2: unknown flag: --checksum for COPY');
    assert.equal(errorOf('FROM x\nCOPY --link=yes a b'), 'Dockerfile:2: expecting boolean value for flag --link, not: yes');
    assert.equal(errorOf('FROM x\nCOPY --link= a b'), 'Dockerfile:2: missing a value on flag: --link');
    assert.equal(errorOf('FROM x\nCOPY --from a b'), 'Dockerfile:2: missing a value on flag: --from');
    assert.equal(errorOf('FROM x\nCOPY --fromm=a b c'), 'Dockerfile:2: unknown flag: --fromm for COPY (did you mean --from?)');
  });

  it('needs a destination', () => {
    assert.equal(errorOf('FROM x\nCOPY arg1'), 'Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
    assert.match(errorOf('FROM x\nADD ["only"]'), /^Dockerfile:2: ADD requires at least two arguments/);
  });

  it('unquotes flag values and stops flags at --', () => {
    const copy = one('COPY --chown="app user" --from=\'b\' -- --odd /dst');
    assert.deepEqual(copy.kind === 'COPY' && [copy.flags.chown, copy.flags.from, copy.sources], ['app user', 'b', ['--odd']]);
  });
});

describe('simple instructions', () => {
  it('parses MAINTAINER, USER, WORKDIR, STOPSIGNAL as one string', () => {
    const all = insts('MAINTAINER Jane Doe <jane@x.org>\nUSER docker:root\nWORKDIR /a b\nSTOPSIGNAL SIGKILL\n');
    assert.deepEqual(all.map((i) => {
      switch (i.kind) {
        case 'MAINTAINER': return i.maintainer;
        case 'USER': return i.user;
        case 'WORKDIR': return i.path;
        case 'STOPSIGNAL': return i.signal;
        default: return i.kind;
      }
    }), ['Jane Doe <jane@x.org>', 'docker:root', '/a b', 'SIGKILL']);
    for (const kind of ['MAINTAINER', 'WORKDIR', 'USER', 'STOPSIGNAL']) {
      assert.equal(errorOf(`FROM x\n${kind}`), `Dockerfile:2: ${kind} requires exactly one argument`);
    }
  });

  it('parses EXPOSE and VOLUME word lists and VOLUME JSON (testfiles/lk4d4, multiple-volumes)', () => {
    const all = insts('EXPOSE 3000\nEXPOSE 9000 5000/udp 6000-6002\nVOLUME ["/test"]\nVOLUME ["/test", "/test2"]\nVOLUME /test3 /opt/x\n');
    assert.deepEqual(all.map((i) => (i.kind === 'EXPOSE' ? i.ports : i.kind === 'VOLUME' ? i.volumes : [])), [
      ['3000'], ['9000', '5000/udp', '6000-6002'], ['/test'], ['/test', '/test2'], ['/test3', '/opt/x'],
    ]);
    assert.equal(errorOf('FROM x\nEXPOSE'), 'Dockerfile:2: EXPOSE requires at least one argument');
    assert.equal(errorOf('FROM x\nVOLUME []'), 'Dockerfile:2: VOLUME requires at least one argument');
    assert.equal(errorOf('FROM x\nVOLUME [" "]'), 'Dockerfile:2: VOLUME specified can not be an empty string');
  });

  it('is case-insensitive about instruction words', () => {
    assert.deepEqual(insts('run a\nRuN b\nexpose 1\n').map((i) => i.kind), ['RUN', 'RUN', 'EXPOSE']);
  });
});

describe('HEALTHCHECK', () => {
  it('parses the forms of testfiles/health', () => {
    const s = 1_000_000_000;
    const all = insts('HEALTHCHECK --interval=5s --timeout=3s --retries=3 \\\n  CMD /app/check.sh --quiet\nHEALTHCHECK   CMD   a b\nHEALTHCHECK --timeout=3s CMD ["foo"]\nHEALTHCHECK --start-period=0s --start-interval=0s --interval=5s --timeout=0s --retries=0 CMD ["foo"]\nHEALTHCHECK NONE\nhealthcheck --start-period=1m30s --start-interval=500ms cmd true\n');
    assert.deepEqual(all.map((i) => i.kind === 'HEALTHCHECK' && i.health), [
      { test: ['CMD-SHELL', '/app/check.sh --quiet'], interval: 5 * s, timeout: 3 * s, startPeriod: 0, startInterval: 0, retries: 3 },
      { test: ['CMD-SHELL', 'a b'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 },
      { test: ['CMD', 'foo'], interval: 0, timeout: 3 * s, startPeriod: 0, startInterval: 0, retries: 0 },
      { test: ['CMD', 'foo'], interval: 5 * s, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 },
      { test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 },
      { test: ['CMD-SHELL', 'true'], interval: 0, timeout: 0, startPeriod: 90 * s, startInterval: 500_000_000, retries: 0 },
    ]);
    assert.deepEqual(all[0]?.flags, { interval: '5s', timeout: '3s', retries: '3' });
  });

  it('rejects bad forms and values', () => {
    assert.equal(errorOf('FROM x\nHEALTHCHECK'), 'Dockerfile:2: HEALTHCHECK requires at least one argument');
    assert.equal(errorOf('FROM x\nHEALTHCHECK CMD'), 'Dockerfile:2: Missing command after HEALTHCHECK CMD');
    assert.equal(errorOf('FROM x\nHEALTHCHECK CMD []'), 'Dockerfile:2: Missing command after HEALTHCHECK CMD');
    assert.equal(errorOf('FROM x\nHEALTHCHECK CONNECT TCP 7000'), 'Dockerfile:2: Unknown type "CONNECT" in HEALTHCHECK (try CMD)');
    assert.equal(errorOf('FROM x\nHEALTHCHECK NONE x'), 'Dockerfile:2: HEALTHCHECK NONE takes no arguments');
    assert.equal(errorOf('FROM x\nHEALTHCHECK --interval=50ns CMD true'), 'Dockerfile:2: Interval "interval" cannot be less than 1ms');
    assert.equal(errorOf('FROM x\nHEALTHCHECK --timeout=5 CMD true'), 'Dockerfile:2: time: missing unit in duration "5"');
    assert.equal(errorOf('FROM x\nHEALTHCHECK --retries=-1 CMD true'), 'Dockerfile:2: --retries cannot be negative (-1)');
    assert.equal(errorOf('FROM x\nHEALTHCHECK --intervl=5s CMD true'), 'Dockerfile:2: unknown flag: --intervl for HEALTHCHECK (did you mean --interval?)');
  });
});

describe('ONBUILD', () => {
  it('keeps the trigger text and parses the nested instruction (testfiles/lk4d4)', () => {
    const all = insts('ONBUILD RUN ["echo", "test"]\nONBUILD RUN echo test\nonbuild   copy --chown=a . /\n');
    assert.deepEqual(all.map((i) => i.kind === 'ONBUILD' && i.expression), ['RUN ["echo", "test"]', 'RUN echo test', 'copy --chown=a . /']);
    const [exec, , copy] = all;
    assert.deepEqual(exec?.kind === 'ONBUILD' && exec.instruction.kind === 'RUN' && exec.instruction.cmd, { form: 'exec', args: ['echo', 'test'] });
    assert.ok(copy?.kind === 'ONBUILD' && copy.instruction.kind === 'COPY');
    assert.deepEqual(copy.instruction.kind === 'COPY' && [copy.instruction.sources, copy.instruction.dest, copy.instruction.flags.chown], [['.'], '/', 'a']);
    assert.equal(copy.instruction.original, 'copy --chown=a . /');
    assert.deepEqual(copy.instruction.loc, copy.loc);
  });

  it('rejects ONBUILD ONBUILD, FROM and MAINTAINER triggers, and bad nested instructions', () => {
    assert.equal(errorOf('FROM x\nONBUILD ONBUILD RUN a'), 'Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
    assert.equal(errorOf('FROM x\nONBUILD FROM a'), "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
    assert.equal(errorOf('FROM x\nONBUILD maintainer me'), "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger");
    assert.equal(errorOf('FROM x\nONBUILD'), 'Dockerfile:2: ONBUILD requires at least one argument');
    assert.equal(errorOf('FROM x\nONBUILD FOOBAR bar'), 'Dockerfile:2: unknown instruction: FOOBAR');
    assert.equal(errorOf('FROM x\nONBUILD COPY --bad a b'), 'Dockerfile:2: unknown flag: --bad for COPY');
  });

  it('parses stored trigger expressions back with parseInstructions', () => {
    const [inst] = parseInstructions('RUN echo hi');
    assert.deepEqual(inst?.kind === 'RUN' && inst.cmd, { form: 'shell', command: 'echo hi' });
  });
});

describe('document structure and errors', () => {
  it('collects meta ARGs before the first FROM and groups instructions into stages', () => {
    const df = parse('# c\nARG A=1\nARG B\nFROM a AS one\nRUN x\nFROM one\nARG A\nCMD y\n');
    assert.deepEqual(df.metaArgs.map((a) => a.loc.line), [2, 3]);
    assert.deepEqual(df.stages.map((s) => [s.index, s.name, s.from.image, s.instructions.map((i) => i.kind)]), [
      [0, 'one', 'a', ['RUN']],
      [1, undefined, 'one', ['ARG', 'CMD']],
    ]);
  });

  it('rejects instructions other than ARG before FROM', () => {
    assert.equal(errorOf('ARG A\nRUN x\nFROM a'), 'Dockerfile:2: no build stage in current context: RUN before the first FROM');
  });

  it('rejects empty and comment-only files, naming the file', () => {
    assert.equal(errorOf(''), 'the Dockerfile (Dockerfile) cannot be empty');
    assert.equal(errorOf('\n# only\n   \n# comments\n', 'build/Containerfile'), 'the Dockerfile (build/Containerfile) cannot be empty');
  });

  it('rejects unknown instructions, suggesting a close one in the same casing', () => {
    assert.equal(errorOf('FROM x\nFORM y'), 'Dockerfile:2: unknown instruction: FORM (did you mean FROM?)');
    assert.equal(errorOf('FROM x\nrum y'), 'Dockerfile:2: unknown instruction: rum (did you mean run?)');
    assert.equal(errorOf('FROM x\nFOOBARBAZ y'), 'Dockerfile:2: unknown instruction: FOOBARBAZ');
  });

  it('uses the given file name and the first line of a continued instruction', () => {
    assert.equal(errorOf('FROM x\n\nCOPY \\\n  onlyone', 'ci/Dockerfile.test'), 'ci/Dockerfile.test:3: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
    const df = parse('FROM x', { file: 'a/b' });
    assert.equal(df.stages[0]?.from.loc.file, 'a/b');
  });

  it('keeps original text per instruction, trimmed, escapes of continuations removed', () => {
    const df = parse('FROM x\n  RUN   apt-get update && \\\n      apt-get install -y curl   \n');
    assert.equal(df.stages[0]?.instructions[0]?.original, 'RUN   apt-get update &&       apt-get install -y curl');
  });
});
