// Here-documents with BuildKit semantics: markers, quoting, chomping, several per line,
// COPY/ADD inline files, RUN scripts, and errors. The big table is buildkit's
// TestParseExtractsHeredoc.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chompHeredoc,
  parseDockerfile,
  parseHeredocMarker,
  runCommand,
  type Heredoc,
  type Instruction,
} from '../../src/build/dockerfile/index.js';
import { isBerthError } from '../../src/util/errors.js';

const h = (name: string, content: string, extra: Partial<Heredoc> = {}): Heredoc => ({ name, content, expand: true, chomp: false, fd: 0, ...extra });

function heredocsOf(inst: Instruction): Heredoc[] {
  if (inst.kind === 'RUN') return inst.heredocs;
  if (inst.kind === 'COPY' || inst.kind === 'ADD') {
    return inst.inlineSources.map((s) => ({ name: s.name, content: s.content, expand: s.expand, chomp: false, fd: 0 }));
  }
  return [];
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isBerthError(err, 'InvalidArgument'), `not an InvalidArgument BerthError: ${String(err)}`);
    return err.message;
  }
  assert.fail('no error');
}

describe('heredocs: buildkit TestParseExtractsHeredoc', () => {
  const text = [
    '',
    'FROM alpine:3.6',
    '',
    'ENV NAME=me',
    '',
    'RUN ls',
    '',
    'USER <<INVALID',
    '',
    'RUN <<EMPTY',
    'EMPTY',
    '',
    'RUN 3<<EMPTY2',
    'EMPTY2',
    '',
    'RUN "<<NOHEREDOC"',
    '',
    'RUN <<INDENT',
    '\tfoo',
    '\tbar',
    'INDENT',
    '',
    'RUN <<-UNINDENT',
    '\tbaz',
    '\tquux',
    'UNINDENT',
    '',
    'RUN <<-UNINDENT2',
    '\tbaz',
    '\tquux',
    '\tUNINDENT2',
    '',
    'RUN <<-EXPAND',
    '\texpand $NAME',
    'EXPAND',
    '',
    "RUN <<-'NOEXPAND'",
    "\tdon't expand $NAME",
    'NOEXPAND',
    '',
    'RUN <<COPY',
    'echo hello world',
    'echo foo bar',
    'COPY',
    '',
    'RUN <<COMMENT',
    '# internal comment',
    'echo hello world',
    'echo foo bar # trailing comment',
    'COMMENT',
    '',
    'RUN --mount=type=cache,target=/foo <<MOUNT',
    'echo hello',
    'MOUNT',
    '',
    'RUN <<X <<Y',
    'Y',
    'X',
    'X',
    'Y',
    '',
    'RUN <<COMPLEX python3',
    "print('hello world')",
    'COMPLEX',
    '',
    "RUN <<eo'f'",
    'echo foo',
    'eof',
    '',
    "RUN <<eo\\'f",
    'echo foo',
    "eo'f",
    '',
    "RUN <<'e'o\\'f",
    'echo foo',
    "eo'f",
    '',
    "RUN <<'one two'",
    'echo bar',
    'one two',
    '',
    'RUN <<$EOF',
    '$EOF',
    '',
    'RUN <<  EOF',
    'EOF',
    '',
    'RUN <<  EOF  > foo',
    'EOF',
    '\t',
  ].join('\n');
  const expected: Heredoc[][] = [
    [], // ENV
    [], // RUN ls
    [], // USER <<INVALID: USER never has heredocs
    [h('EMPTY', '')],
    [h('EMPTY2', '', { fd: 3 })],
    [],
    [h('INDENT', '\tfoo\n\tbar\n')],
    [h('UNINDENT', '\tbaz\n\tquux\n', { chomp: true })],
    [h('UNINDENT2', '\tbaz\n\tquux\n', { chomp: true })],
    [h('EXPAND', '\texpand $NAME\n', { chomp: true })],
    [h('NOEXPAND', "\tdon't expand $NAME\n", { chomp: true, expand: false })],
    [h('COPY', 'echo hello world\necho foo bar\n')],
    [h('COMMENT', '# internal comment\necho hello world\necho foo bar # trailing comment\n')],
    [h('MOUNT', 'echo hello\n')],
    [h('X', 'Y\n'), h('Y', 'X\n')],
    [h('COMPLEX', "print('hello world')\n")],
    [h('eof', 'echo foo\n', { expand: false })],
    [h("eo'f", 'echo foo\n')],
    [h("eo'f", 'echo foo\n', { expand: false })],
    [h('one two', 'echo bar\n', { expand: false })],
    [h('$EOF', '')],
    [h('EOF', '')],
    [h('EOF', '')],
  ];

  it('extracts every heredoc with name, body, fd, chomp and expand', () => {
    const df = parseDockerfile(text);
    const all = df.stages[0]?.instructions ?? [];
    assert.equal(all.length, expected.length);
    all.forEach((inst, i) => assert.deepEqual(heredocsOf(inst), expected[i], `instruction ${i + 1}: ${inst.original}`));
  });
});

describe('heredocs in COPY and ADD', () => {
  it('turns heredoc sources into inline files, several per line, with tabs chomped for <<-', () => {
    const df = parseDockerfile('FROM x\nCOPY <<FILE1 <<-FILE2 real.txt /dest/\ncontent 1\nFILE1\n\tcontent 2\n\tFILE2\nADD <<"EOF" /quotes\n"foo"\n\'bar\' $X\nEOF\n');
    const [copy, add] = df.stages[0]?.instructions ?? [];
    assert.ok(copy?.kind === 'COPY' && add?.kind === 'ADD');
    assert.deepEqual(copy.sources, ['real.txt']);
    assert.equal(copy.dest, '/dest/');
    assert.deepEqual(copy.inlineSources, [
      { name: 'FILE1', content: 'content 1\n', expand: true },
      { name: 'FILE2', content: 'content 2\n', expand: true },
    ]);
    assert.deepEqual(copy.loc, { file: 'Dockerfile', line: 2, endLine: 6 });
    assert.deepEqual(add.inlineSources, [{ name: 'EOF', content: '"foo"\n\'bar\' $X\n', expand: false }]);
    assert.deepEqual(add.loc, { file: 'Dockerfile', line: 7, endLine: 10 });
  });

  it('rejects a heredoc destination', () => {
    assert.equal(messageOf(() => parseDockerfile('FROM x\nCOPY a <<EOF\nx\nEOF\n')), 'Dockerfile:2: COPY cannot accept a heredoc as a destination');
  });

  it('ignores << in JSON form', () => {
    const df = parseDockerfile('FROM x\nRUN ["<<EOF"]\nCOPY ["<<EOF", "/d"]\nUSER app\n');
    const [run, copy, user] = df.stages[0]?.instructions ?? [];
    assert.deepEqual(run?.kind === 'RUN' && [run.cmd, run.heredocs], [{ form: 'exec', args: ['<<EOF'] }, []]);
    assert.deepEqual(copy?.kind === 'COPY' && [copy.sources, copy.inlineSources], [['<<EOF'], []]);
    assert.equal(user?.kind, 'USER');
  });
});

describe('heredocs: lines, CRLF, ONBUILD and errors', () => {
  it('counts body lines in the location and keeps the following instructions right', () => {
    const df = parseDockerfile('FROM x\nRUN <<EOF\nline1\nline2\nEOF\nUSER u\n');
    const [run, user] = df.stages[0]?.instructions ?? [];
    assert.deepEqual(run?.loc, { file: 'Dockerfile', line: 2, endLine: 5 });
    assert.equal(run?.original, 'RUN <<EOF');
    assert.deepEqual(user?.loc, { file: 'Dockerfile', line: 6, endLine: 6 });
  });

  it('matches the delimiter on CRLF lines and keeps the body bytes', () => {
    const df = parseDockerfile('FROM x\r\nCOPY <<EOF /a\r\nhi\r\nEOF\r\nUSER u\r\n');
    const [copy, user] = df.stages[0]?.instructions ?? [];
    assert.deepEqual(copy?.kind === 'COPY' && copy.inlineSources, [{ name: 'EOF', content: 'hi\r\n', expand: true }]);
    assert.equal(user?.kind, 'USER');
  });

  it('attaches heredocs to ONBUILD triggers and stores them in the expression', () => {
    const df = parseDockerfile('FROM x\nONBUILD RUN <<EOF\necho hi\nEOF\n');
    const ob = df.stages[0]?.instructions[0];
    assert.ok(ob?.kind === 'ONBUILD');
    assert.equal(ob.expression, 'RUN <<EOF\necho hi\nEOF');
    assert.deepEqual(ob.instruction.kind === 'RUN' && ob.instruction.heredocs, [h('EOF', 'echo hi\n')]);
  });

  it('reports an unterminated heredoc at its instruction line', () => {
    assert.match(messageOf(() => parseDockerfile('FROM x\nRUN echo a\nRUN <<EOF\necho hi\n')), /^Dockerfile:3: unterminated heredoc <<EOF/);
    assert.match(messageOf(() => parseDockerfile('FROM x\nCOPY <<a <<b /d\nA\na\nB\n')), /^Dockerfile:2: unterminated heredoc <<b/);
    // A line that does not lex (unbalanced quote) has no heredocs, as in BuildKit.
    assert.equal(messageOf(() => parseDockerfile("FROM x\nRUN <<'EOF\ntrue\n")), 'Dockerfile:3: unknown instruction: true (did you mean run?)');
  });

  it('does not treat an indented delimiter as the end unless <<- was used', () => {
    const df = parseDockerfile('FROM x\nRUN <<EOF\n\tEOF\nEOF\n');
    const run = df.stages[0]?.instructions[0];
    assert.deepEqual(run?.kind === 'RUN' && run.heredocs, [h('EOF', '\tEOF\n')]);
  });
});

describe('heredoc helpers', () => {
  it('parses markers like buildkit TestParseHeredocHelpers', () => {
    for (const src of ['<<EOF', "<<'EOF'", '<<"EOF"', '<<-EOF', "<<-'EOF'", '<<-"EOF"', '<<EO"F"', '<< EOF', '<<- EOF']) {
      assert.equal(parseHeredocMarker(src)?.name, 'EOF', src);
    }
    for (const src of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh']) assert.equal(parseHeredocMarker(src), undefined, src);
    for (const src of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) assert.throws(() => parseHeredocMarker(src), src);
    assert.deepEqual(parseHeredocMarker('12<<-"A"B'), { name: 'AB', fd: 12, chomp: true, expand: false });
  });

  it('chomps leading tabs of every line (TestHeredocChomp)', () => {
    assert.equal(chompHeredoc('\thello\n\tworld\n'), 'hello\nworld\n');
    assert.equal(chompHeredoc('\t\t a\n  b\n'), ' a\n  b\n');
  });
});

describe('runCommand: what a RUN with heredocs executes', () => {
  const run = (text: string): Extract<Instruction, { kind: 'RUN' }> => {
    const inst = parseDockerfile(`FROM x\n${text}`).stages[0]?.instructions[0];
    assert.ok(inst?.kind === 'RUN');
    return inst;
  };

  it('passes plain commands through', () => {
    assert.deepEqual(runCommand(run('RUN ["a"]')), { kind: 'command', cmd: { form: 'exec', args: ['a'] } });
  });

  it('runs a lone heredoc body as the script, chomped', () => {
    assert.deepEqual(runCommand(run('RUN <<-EOF\n\techo a\n\techo b\nEOF\n')), { kind: 'script', script: 'echo a\necho b\n' });
  });

  it('writes a lone heredoc with a shebang to a file', () => {
    assert.deepEqual(runCommand(run('RUN <<script.py\n#!/usr/bin/env python3\nprint(1)\nscript.py\n')), {
      kind: 'file',
      name: 'script.py',
      content: '#!/usr/bin/env python3\nprint(1)\n',
    });
  });

  it('hands heredocs used as stdin back to the shell with their bodies', () => {
    assert.deepEqual(runCommand(run('RUN python3 <<EOF > /out\nprint(1)\nEOF\n')), { kind: 'shell', command: 'python3 <<EOF > /out\nprint(1)\nEOF' });
    assert.deepEqual(runCommand(run('RUN cat <<a <<-b\nA\na\n\tB\n\tb\n')), { kind: 'shell', command: 'cat <<a <<-b\nA\na\n\tB\nb' });
  });
});
