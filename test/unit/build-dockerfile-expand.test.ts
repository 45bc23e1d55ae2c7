// Variable substitution: the buildkit shell lexer's own test tables (shell/envVarTest,
// shell/wordsTest, lex_test.go), our escape=` variant, and which instruction parts expand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expandHeredoc,
  expandInstruction,
  expandWord,
  expandWords,
  parseDockerfile,
  shellPatternToRegex,
  type Instruction,
  type Lookup,
} from '../../src/build/dockerfile/index.js';
import { reversePattern } from '../../src/build/dockerfile/shell-pattern.js';
import { isBerthError } from '../../src/util/errors.js';

const envOf = (vars: Record<string, string>): Lookup => (name) =>
  Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined;

// buildkit frontend/dockerfile/shell/envVarTest, rows for all platforms and Unix.
const ENV_VAR_TEST: [string, string][] = [
  ["hello", "hello"],
  ["he'll'o", "hello"],
  ["he'llo", "error"],
  ["he\\'llo", "he'llo"],
  ["he\\\\'llo", "error"],
  ["abc\\tdef", "abctdef"],
  ["\"abc\\tdef\"", "abc\\tdef"],
  ["\"abc\\\\tdef\"", "abc\\tdef"],
  ["'abc\\tdef'", "abc\\tdef"],
  ["hello\\", "hello"],
  ["hello\\\\", "hello\\"],
  ["\"hello", "error"],
  ["\"hello\\\"", "error"],
  ["\"hel'lo\"", "hel'lo"],
  ["'hello", "error"],
  ["'hello\\'", "hello\\"],
  ["'hello\\there'", "hello\\there"],
  ["'hello\\\\there'", "hello\\\\there"],
  ["\"''\"", "''"],
  ["$.", "$."],
  ["he$1x", "hex"],
  ["he$.x", "he$.x"],
  ["he$pwd.", "he."],
  ["he$PWD", "he/home"],
  ["he\\$PWD", "he$PWD"],
  ["he\\\\$PWD", "he\\/home"],
  ["\"he\\$PWD\"", "he$PWD"],
  ["\"he\\\\$PWD\"", "he\\/home"],
  ["\\${}", "${}"],
  ["\\${}aaa", "${}aaa"],
  ["he\\${}", "he${}"],
  ["he\\${}xx", "he${}xx"],
  ["${}", "error"],
  ["${}aaa", "error"],
  ["he${}", "error"],
  ["he${}xx", "error"],
  ["he${hi}", "he"],
  ["he${hi}xx", "hexx"],
  ["he${PWD}", "he/home"],
  ["he${.}", "error"],
  ["he${XXX:-000}xx", "he000xx"],
  ["he${PWD:-000}xx", "he/homexx"],
  ["he${XXX:-$PWD}xx", "he/homexx"],
  ["he${XXX:-${PWD:-yyy}}xx", "he/homexx"],
  ["he${XXX:-${YYY:-yyy}}xx", "heyyyxx"],
  ["he${XXX:YYY}", "error"],
  ["he${XXX?}", "error"],
  ["he${XXX:?}", "error"],
  ["he${PWD?}", "he/home"],
  ["he${PWD:?}", "he/home"],
  ["he${NULL?}", "he"],
  ["he${NULL:?}", "error"],
  ["he${XXX:+${PWD}}xx", "hexx"],
  ["he${PWD:+${XXX}}xx", "hexx"],
  ["he${PWD:+${SHELL}}xx", "hebashxx"],
  ["he${XXX:+000}xx", "hexx"],
  ["he${PWD:+000}xx", "he000xx"],
  ["'he${XX}'", "he${XX}"],
  ["\"he${PWD}\"", "he/home"],
  ["\"he'$PWD'\"", "he'/home'"],
  ["\"$PWD\"", "/home"],
  ["'$PWD'", "$PWD"],
  ["'\\$PWD'", "\\$PWD"],
  ["'\"hello\"'", "\"hello\""],
  ["he\\$PWD", "he$PWD"],
  ["\"he\\$PWD\"", "he$PWD"],
  ["'he\\$PWD'", "he\\$PWD"],
  ["he${PWD", "error"],
  ["he${PWD:=000}xx", "error"],
  ["he${PWD:+${PWD}:}xx", "he/home:xx"],
  ["he${XXX:-\\$PWD:}xx", "he$PWD:xx"],
  ["he${XXX:-\\${PWD}z}xx", "he${PWDz}xx"],
  ["안녕하세요", "안녕하세요"],
  ["안'녕'하세요", "안녕하세요"],
  ["안'녕하세요", "error"],
  ["안녕\\'하세요", "안녕'하세요"],
  ["안\\\\'녕하세요", "error"],
  ["안녕\\t하세요", "안녕t하세요"],
  ["\"안녕\\t하세요\"", "안녕\\t하세요"],
  ["'안녕\\t하세요", "error"],
  ["안녕하세요\\", "안녕하세요"],
  ["안녕하세요\\\\", "안녕하세요\\"],
  ["\"안녕하세요", "error"],
  ["\"안녕하세요\\\"", "error"],
  ["\"안녕'하세요\"", "안녕'하세요"],
  ["'안녕하세요", "error"],
  ["'안녕하세요\\'", "안녕하세요\\"],
  ["안녕$1x", "안녕x"],
  ["안녕$.x", "안녕$.x"],
  ["안녕$pwd.", "안녕."],
  ["안녕$PWD", "안녕/home"],
  ["안녕\\$PWD", "안녕$PWD"],
  ["안녕\\\\$PWD", "안녕\\/home"],
  ["안녕\\${}", "안녕${}"],
  ["안녕\\${}xx", "안녕${}xx"],
  ["안녕${}", "error"],
  ["안녕${}xx", "error"],
  ["안녕${hi}", "안녕"],
  ["안녕${hi}xx", "안녕xx"],
  ["안녕${PWD}", "안녕/home"],
  ["안녕${.}", "error"],
  ["안녕${XXX:-000}xx", "안녕000xx"],
  ["안녕${PWD:-000}xx", "안녕/homexx"],
  ["안녕${XXX:-$PWD}xx", "안녕/homexx"],
  ["안녕${XXX:-${PWD:-yyy}}xx", "안녕/homexx"],
  ["안녕${XXX:-${YYY:-yyy}}xx", "안녕yyyxx"],
  ["안녕${XXX:YYY}", "error"],
  ["안녕${XXX:+${PWD}}xx", "안녕xx"],
  ["안녕${PWD:+${XXX}}xx", "안녕xx"],
  ["안녕${PWD:+${SHELL}}xx", "안녕bashxx"],
  ["안녕${XXX:+000}xx", "안녕xx"],
  ["안녕${PWD:+000}xx", "안녕000xx"],
  ["'안녕${XX}'", "안녕${XX}"],
  ["\"안녕${PWD}\"", "안녕/home"],
  ["\"안녕'$PWD'\"", "안녕'/home'"],
  ["'\"안녕\"'", "\"안녕\""],
  ["안녕\\$PWD", "안녕$PWD"],
  ["\"안녕\\$PWD\"", "안녕$PWD"],
  ["'안녕\\$PWD'", "안녕\\$PWD"],
  ["안녕${PWD", "error"],
  ["안녕${PWD:=000}xx", "error"],
  ["안녕${PWD:+${PWD}:}xx", "안녕/home:xx"],
  ["안녕${XXX:-\\$PWD:}xx", "안녕$PWD:xx"],
  ["안녕${XXX:-\\${PWD}z}xx", "안녕${PWDz}xx"],
  ["$KOREAN", "한국어"],
  ["안녕$KOREAN", "안녕한국어"],
  ["${{aaa}", "error"],
  ["${aaa}}", "}"],
  ["${aaa", "error"],
  ["${{aaa:-bbb}", "error"],
  ["${aaa:-bbb}}", "bbb}"],
  ["${aaa:-bbb", "error"],
  ["${aaa:-bbb}", "bbb"],
  ["${aaa:-${bbb:-ccc}}", "ccc"],
  ["${aaa:-bbb ${foo}", "error"],
  ["${aaa:-bbb {foo}", "bbb {foo"],
  ["${:}", "error"],
  ["${:-bbb}", "error"],
  ["${:+bbb}", "error"],
  ["$1", ""],
  ["${1}", ""],
  ["${1:+bbb}", ""],
  ["${1:-bbb}", "bbb"],
  ["$2", ""],
  ["${2}", ""],
  ["${2:+bbb}", ""],
  ["${2:-bbb}", "bbb"],
  ["$3", ""],
  ["${3}", ""],
  ["${3:+bbb}", ""],
  ["${3:-bbb}", "bbb"],
  ["$4", ""],
  ["${4}", ""],
  ["${4:+bbb}", ""],
  ["${4:-bbb}", "bbb"],
  ["$5", ""],
  ["${5}", ""],
  ["${5:+bbb}", ""],
  ["${5:-bbb}", "bbb"],
  ["$6", ""],
  ["${6}", ""],
  ["${6:+bbb}", ""],
  ["${6:-bbb}", "bbb"],
  ["$7", ""],
  ["${7}", ""],
  ["${7:+bbb}", ""],
  ["${7:-bbb}", "bbb"],
  ["$8", ""],
  ["${8}", ""],
  ["${8:+bbb}", ""],
  ["${8:-bbb}", "bbb"],
  ["$9", ""],
  ["${9}", ""],
  ["${9:+bbb}", ""],
  ["${9:-bbb}", "bbb"],
  ["$999", ""],
  ["${999}", ""],
  ["${999:+bbb}", ""],
  ["${999:-bbb}", "bbb"],
  ["$999aaa", "aaa"],
  ["${999}aaa", "aaa"],
  ["${999:+bbb}aaa", "aaa"],
  ["${999:-bbb}aaa", "bbbaaa"],
  ["$001", ""],
  ["${001}", ""],
  ["${001:+bbb}", ""],
  ["${001:-bbb}", "bbb"],
  ["$001aaa", "aaa"],
  ["${001}aaa", "aaa"],
  ["${001:+bbb}aaa", "aaa"],
  ["${001:-bbb}aaa", "bbbaaa"],
  ["$@", ""],
  ["${@}", ""],
  ["${@:+bbb}", ""],
  ["${@:-bbb}", "bbb"],
  ["$@@@", "@@"],
  ["$@aaa", "aaa"],
  ["${@}aaa", "aaa"],
  ["${@:+bbb}aaa", "aaa"],
  ["${@:-bbb}aaa", "bbbaaa"],
  ["$*", ""],
  ["${*}", ""],
  ["${*:+bbb}", ""],
  ["${*:-bbb}", "bbb"],
  ["$#", ""],
  ["${#}", ""],
  ["${#:+bbb}", ""],
  ["${#:-bbb}", "bbb"],
  ["$?", ""],
  ["${?}", ""],
  ["${?:+bbb}", ""],
  ["${?:-bbb}", "bbb"],
  ["$-", ""],
  ["${-}", ""],
  ["${-:+bbb}", ""],
  ["${-:-bbb}", "bbb"],
  ["$$", ""],
  ["${$}", ""],
  ["${$:+bbb}", ""],
  ["${$:-bbb}", "bbb"],
  ["$!", ""],
  ["${!}", ""],
  ["${!:+bbb}", ""],
  ["${!:-bbb}", "bbb"],
  ["$0", ""],
  ["${0}", ""],
  ["${0:+bbb}", ""],
  ["${0:-bbb}", "bbb"],
];

// buildkit frontend/dockerfile/shell/wordsTest: `env` rows add to the environment.
const WORDS_TEST: ({ env: string } | { word: string; expect: string[] })[] = [
  { word: "hello", expect: ["hello"] },
  { word: "hello${hi}bye", expect: ["hellobye"] },
  { env: "hi=hi" },
  { word: "hello${hi}bye", expect: ["hellohibye"] },
  { env: "space=abc  def" },
  { word: "hello${space}bye", expect: ["helloabc", "defbye"] },
  { word: "hello\"${space}\"bye", expect: ["helloabc  defbye"] },
  { word: "hello \"${space}\"bye", expect: ["hello", "abc  defbye"] },
  { env: "leading=  ab c" },
  { word: "hello${leading}def", expect: ["hello", "ab", "cdef"] },
  { word: "hello\"${leading}\" def", expect: ["hello  ab c", "def"] },
  { word: "hello\"${leading}\"", expect: ["hello  ab c"] },
  { word: "hello${leading}", expect: ["hello", "ab", "c"] },
  { env: "trailing=ab c   " },
  { word: "hello${trailing}", expect: ["helloab", "c"] },
  { word: "hello${trailing}d", expect: ["helloab", "c", "d"] },
  { word: "hello\"${trailing}\"d", expect: ["helloab c   d"] },
  { word: "hel\"lo${trailing}\"", expect: ["helloab c   "] },
  { word: "hello\" there  \"", expect: ["hello there  "] },
  { word: "hello there", expect: ["hello", "there"] },
  { word: "hello\\ there", expect: ["hello there"] },
  { word: "hello\" there", expect: ["error"] },
  { word: "hello\\\" there", expect: ["hello\"", "there"] },
  { word: "hello\"\\\\there\"", expect: ["hello\\there"] },
  { word: "hello\"\\there\"", expect: ["hello\\there"] },
  { word: "hello'\\\\there'", expect: ["hello\\\\there"] },
  { word: "hello'\\there'", expect: ["hello\\there"] },
  { word: "hello'$there'", expect: ["hello$there"] },
];

function outcome(fn: () => string | string[]): string | string[] {
  try {
    return fn();
  } catch (err) {
    assert.ok(isBerthError(err, 'InvalidArgument'), `not a BerthError: ${String(err)}`);
    return 'error';
  }
}

describe('expandWord: buildkit envVarTest table', () => {
  const env = envOf({ PWD: '/home', SHELL: 'bash', KOREAN: '한국어', NULL: '' });
  it(`passes all ${ENV_VAR_TEST.length} rows`, () => {
    for (const [source, expected] of ENV_VAR_TEST) {
      assert.equal(outcome(() => expandWord(source, env)), expected, `input ${JSON.stringify(source)}`);
    }
  });
});

describe('expandWords: buildkit wordsTest table', () => {
  it('splits after substitution, keeping quoted white space', () => {
    const vars: Record<string, string> = {};
    for (const row of WORDS_TEST) {
      if ('env' in row) {
        const eq = row.env.indexOf('=');
        vars[row.env.slice(0, eq)] = row.env.slice(eq + 1);
        continue;
      }
      const got = outcome(() => expandWords(row.word, envOf(vars)));
      assert.deepEqual(got === 'error' ? ['error'] : got, row.expect, `input ${JSON.stringify(row.word)}`);
    }
  });

  it('keeps the text before a ${VAR:-default} (buildkit >= 0.15 loses it; we do not)', () => {
    assert.deepEqual(expandWords('hello${X:-a b}c', envOf({})), ['helloa', 'bc']);
    assert.deepEqual(expandWords('pre "${X:-in side}" post', envOf({})), ['pre', 'in side', 'post']);
  });
});

describe('expandWord: modifiers (buildkit TestProcessWithMatches)', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['x ${UNUSED}', {}, 'x '],
    ['${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx  ccc'],
    ['${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx bbb ccc'],
    ['${FOO:-}', {}, ''],
    ['${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa bbb '],
    ['${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa  '],
    ['${FOO?aaa}', { FOO: 'xxx' }, 'xxx'],
    ['${BAR?bbb}', { BAR: '' }, ''],
    ['${FOO:?aaa}', { FOO: 'xxx' }, 'xxx'],
    ['${FOO#()[]{\\}^$.\\*\\?|\\\\}', { FOO: '()[]{}^$.*?|\\x' }, 'x'],
    ['${FOO%%\\**}', { FOO: 'xx**' }, 'xx'],
    ['${FOO#*x*y}', { FOO: 'xxyy' }, 'y'],
    ['${FOO#*}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO#$BAR}', { FOO: 'xxyy', BAR: 'x' }, 'xyy'],
    ['${FOO#$BAR}', { FOO: 'xxyy', BAR: '' }, 'xxyy'],
    ['${FOO#}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO##*x}', { FOO: 'xxyy' }, 'yy'],
    ['${FOO##}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO#?\\?}', { FOO: '???y' }, '?y'],
    ['${ABC:-.}${FOO%x}${ABC:-.}', { FOO: 'xxyy' }, '.xxyy.'],
    ['${FOO%%\\**\\*}', { FOO: 'a***yy*' }, 'a'],
    ['${FOO%}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO%%$BAR}', { FOO: 'xxyy', BAR: '' }, 'xxyy'],
    ['${FOO%y*}', { FOO: 'xxyy' }, 'xxy'],
    ['${FOO%%y*}', { FOO: 'xxyy' }, 'xx'],
    ['${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}', { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' }, '/foo.*/*.txt - /foo..*.txt'],
    ['${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}', { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' }, '/tmp/bar.txt - /bar.txt'],
    ['${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}', { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', REPLACEMENT: '/' }, '/foo/b/c.txt - /foo/c.txt'],
    ['${FOO/$NEEDLE/$REPLACEMENT}', { FOO: 'http://google.de', NEEDLE: 'http://', REPLACEMENT: 'https://' }, 'https://google.de'],
    ['${FOO//\\//\\/}', { FOO: '/tmp/foo.txt' }, '\\/tmp\\/foo.txt'],
    ['${FOO/$BAR/ww}', { FOO: 'xxyy', BAR: '' }, 'wwxxyy'],
    ['${FOO///}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO///}', {}, ''],
    ['${FOO/x/$}', { FOO: 'axb' }, 'a$b'],
    [
      'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz',
      { VERSION: 'v1.2.3', TARGETOS: 'linux', TARGETARCH: 'arm', TARGETVARIANT: 'v7' },
      'something-v1.2.3.linux-arm-v7.tar.gz',
    ],
    [
      'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz',
      { VERSION: 'v1.2.3', TARGETOS: 'linux', TARGETARCH: 'arm64' },
      'something-v1.2.3.linux-arm64.tar.gz',
    ],
  ];
  for (const [input, vars, expected] of cases) {
    it(`${input} → ${JSON.stringify(expected)}`, () => assert.equal(expandWord(input, envOf(vars)), expected));
  }

  const errors: [string, Record<string, string>][] = [
    ['${BAZ?ccc}', {}],
    ['${BAR:?bbb}', { BAR: '' }],
    ['${BAZ:?}', {}],
    ['${FOO=aaa}', { FOO: 'xxx' }],
    ['${FOO=:aaa}', { FOO: 'xxx' }],
    ['${FOO=}', {}],
    ['${FOO:#}', {}],
    ['${FOO:##}', {}],
    ['${FOO:%}', {}],
    ['${FOO:%%}', {}],
    ['${FOO//ww}', { FOO: 'xxyy' }],
    ['${FOO//}', { FOO: 'xxyy' }],
    ['${FOO#\\x}', { FOO: 'xxyy' }],
  ];
  for (const [input, vars] of errors) {
    it(`${input} is an error`, () => assert.throws(() => expandWord(input, envOf(vars)), /failed to process/));
  }

  it('puts the ?-message, itself expanded, in the error (TestShellParserMandatoryEnvVars)', () => {
    assert.equal(expandWord('${VAR:?message here$ARG}', envOf({ VAR: 'plain', ARG: 'x' })), 'plain');
    assert.throws(() => expandWord('${VAR:?message here$ARG}', envOf({ VAR: '', ARG: 'x' })), /VAR: message herex/);
    assert.throws(() => expandWord('${VAR:?message here$ARG}', envOf({ ARG: 'x' })), /VAR: message herex/);
    assert.equal(expandWord('${VAR?message here$ARG}', envOf({ VAR: '', ARG: 'x' })), '');
    assert.throws(() => expandWord('${VAR?message here$ARG}', envOf({ ARG: 'x' })), /VAR: message herex/);
    assert.throws(() => expandWord('${VAR?}', envOf({})), /VAR: is not allowed to be unset/);
    assert.throws(() => expandWord('${VAR:?}', envOf({ VAR: '' })), /VAR: is not allowed to be empty/);
  });
});

describe('shell patterns', () => {
  it('converts like buildkit TestConvertShellPatternToRegex', () => {
    assert.equal(shellPatternToRegex('*', true, true).source, '^.*');
    assert.equal(shellPatternToRegex('?', true, true).source, '^.');
    assert.equal(shellPatternToRegex('\\*', true, true).source, '^\\*');
    assert.equal(shellPatternToRegex('*', false, false).source, '.*?');
    assert.equal(shellPatternToRegex('(()[]{\\}^$.\\*\\?|\\\\', true, true).source, '^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\');
    for (const bad of ['\\', '\\x', '\\\\\\']) assert.throws(() => shellPatternToRegex(bad, true, true));
  });

  it('reverses patterns keeping escapes in front (TestReversePattern)', () => {
    const cases: [string, string][] = [
      ['a\\*c', 'c\\*a'],
      ['\\\\\\ab', 'b\\a\\\\'],
      ['ab\\', '\\ba'],
      ['👽\\🚀🖖', '🖖\\🚀👽'],
      ['\\\\b', 'b\\\\'],
    ];
    for (const [input, expected] of cases) assert.equal(reversePattern(input), expected);
  });
});

describe('escape=` (backtick) expansion', () => {
  const env = envOf({ PWD: '/home' });
  it('uses the backtick as escape and leaves backslashes literal', () => {
    assert.equal(expandWord('C:\\path\\$PWD', env, '`'), 'C:\\path\\/home');
    assert.equal(expandWord('a`$PWD', env, '`'), 'a$PWD');
    assert.equal(expandWord('"a`"b"', env, '`'), 'a"b');
    assert.equal(expandWord('a` b', env, '`'), 'a b');
    assert.deepEqual(expandWords('a` b c', env, '`'), ['a b', 'c']);
  });
});

describe('expandHeredoc', () => {
  // BuildKit (moby/buildkit#2442) keeps quotes but still applies backslash escapes.
  it('substitutes $ and applies escapes, keeping quotes', () => {
    const env = envOf({ NAME: 'me' });
    assert.equal(expandHeredoc('hi "$NAME" \'${NAME}\'\n\\$NAME \\n\n', env), 'hi "me" \'me\'\n$NAME n\n');
  });
});

function only(text: string): Instruction {
  const df = parseDockerfile(`FROM scratch\n${text}\n`);
  const inst = df.stages[0]?.instructions[0];
  assert.ok(inst);
  return inst;
}

describe('expandInstruction', () => {
  const env = envOf({ A: 'aa', B: 'b b', USER: 'app', P: '8080', DIR: '/srv', MODE: '0755', C: 'cache' });
  const expand = (text: string): Instruction => expandInstruction(only(text), env, '\\');

  it('expands ENV and LABEL keys and values, removing quotes', () => {
    const env1 = expand('ENV X=$A Y="$B" Z=\'$A\' ${A}K=v');
    assert.equal(env1.kind, 'ENV');
    assert.deepEqual(env1.kind === 'ENV' && env1.pairs.map((p) => [p.key, p.value]), [['X', 'aa'], ['Y', 'b b'], ['Z', '$A'], ['aaK', 'v']]);
    const legacy = expand('ENV K "$B" and more');
    assert.deepEqual(legacy.kind === 'ENV' && legacy.pairs, [{ key: 'K', value: 'b b and more', legacy: true }]);
    const label = expand('LABEL "com.x"="$A" b=\\$A');
    assert.deepEqual(label.kind === 'LABEL' && label.pairs.map((p) => [p.key, p.value]), [['com.x', 'aa'], ['b', '$A']]);
  });

  it('expands USER, WORKDIR, STOPSIGNAL, VOLUME and splits EXPOSE', () => {
    const user = expand('USER ${USER}:${GROUP:-app}');
    assert.equal(user.kind === 'USER' && user.user, 'app:app');
    const wd = expand('WORKDIR $DIR/x');
    assert.equal(wd.kind === 'WORKDIR' && wd.path, '/srv/x');
    const sig = expand('STOPSIGNAL ${SIG:-SIGTERM}');
    assert.equal(sig.kind === 'STOPSIGNAL' && sig.signal, 'SIGTERM');
    const vol = expand('VOLUME $DIR/a ["no"]');
    assert.deepEqual(vol.kind === 'VOLUME' && vol.volumes, ['/srv/a', '[no]']);
    const volJson = expand('VOLUME ["$DIR/a", "b"]');
    assert.deepEqual(volJson.kind === 'VOLUME' && volJson.volumes, ['/srv/a', 'b']);
    const expose = expand('EXPOSE $P ${Q:-53}/udp $B');
    assert.deepEqual(expose.kind === 'EXPOSE' && expose.ports, ['8080', '53/udp', 'b', 'b']);
    // Words are split before expansion, so a default with a space breaks the ${...}.
    assert.throws(() => expand('EXPOSE ${Q:-1 2}'), /Dockerfile:2: failed to process "\$\{Q:-1": syntax error: missing '}'/);
  });

  it('does not expand RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER, ARG or ONBUILD', () => {
    for (const text of ['RUN echo $A', 'CMD echo $A', 'ENTRYPOINT ["$A"]', 'SHELL ["$A"]', 'MAINTAINER $A', 'ARG X=$A', 'ONBUILD RUN echo $A', 'HEALTHCHECK CMD echo $A']) {
      const inst = only(text);
      assert.deepEqual(expandInstruction(inst, env, '\\'), inst, text);
    }
  });

  it("expands RUN --mount values but not RUN's command", () => {
    const run = expand('RUN --mount=type=$C,target=$DIR,mode=$MODE,ro --network=none echo $A');
    assert.ok(run.kind === 'RUN');
    assert.deepEqual(run.flags.mount, ['type=cache,target=/srv,mode=0755,ro']);
    assert.equal(run.flags.network, 'none');
    assert.deepEqual(run.cmd, { form: 'shell', command: 'echo $A' });
    // Values are expanded field by field, so a comma from a variable stays inside its field.
    const comma = expandInstruction(only('RUN --mount=type=bind,source=$CSV,target=/t true'), envOf({ CSV: 'a,"b' }), '\\');
    assert.deepEqual(comma.kind === 'RUN' && comma.flags.mount, ['type=bind,"source=a,""b",target=/t']);
  });

  it('expands COPY/ADD sources, dest, --chown, --chmod (not --from) and unquoted heredoc bodies', () => {
    const copy = expand('COPY --from=$A --chown=$USER --chmod=$MODE $DIR/a "$B" /dst/$A');
    assert.ok(copy.kind === 'COPY');
    assert.deepEqual(copy.sources, ['/srv/a', 'b b']);
    assert.equal(copy.dest, '/dst/aa');
    assert.deepEqual([copy.flags.from, copy.flags.chown, copy.flags.chmod], ['$A', 'app', '0755']);
    const add = expand('ADD --checksum=sha256:$A --chown=$USER ["$DIR/x", "/y"]');
    assert.ok(add.kind === 'ADD');
    assert.deepEqual([add.flags.checksum, add.flags.chown, add.sources, add.dest], ['sha256:aa', 'app', ['/srv/x'], '/y']);
    const df = parseDockerfile('FROM scratch\nCOPY <<a <<"b" /d/\n"$A" \\$A\na\n$A\nb\n');
    const inline = expandInstruction(df.stages[0]?.instructions[0] as Instruction, env, '\\');
    assert.deepEqual(inline.kind === 'COPY' && inline.inlineSources.map((s) => s.content), ['"aa" $A\n', '$A\n']);
  });

  it('expands FROM image and --platform', () => {
    const df = parseDockerfile('FROM --platform=$P ${A}:1 AS x\n');
    const from = expandInstruction(df.stages[0]?.from as Instruction, env, '\\');
    assert.ok(from.kind === 'FROM');
    assert.deepEqual([from.image, from.flags.platform, from.name], ['aa:1', '8080', 'x']);
  });

  it('locates expansion errors in the Dockerfile', () => {
    assert.throws(() => expand('WORKDIR ${NOPE:?must be set}'), (err: unknown) => {
      assert.ok(isBerthError(err, 'InvalidArgument'));
      assert.match(err.message, /^Dockerfile:2: failed to process "\$\{NOPE:\?must be set\}": NOPE: must be set$/);
      return true;
    });
  });
});
