// .dockerignore parsing and matching, table-driven from moby/patternmatcher's and Go's
// filepath.Match test cases, plus where Docker looks for the ignore file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IgnoreMatcher, goMatch, ignoreFileFor, parseIgnoreFile } from '../../src/build/context/index.js';
import { isBerthError } from '../../src/util/errors.js';

type Pass = 'fail' | 'exact' | 'inexact';

// patternmatcher_test.go TestMatches: "exact" matches the path itself, "inexact" only
// through a parent directory; MatchesOrParentMatches is true for both.
const SINGLE: Array<[string, string, Pass]> = [
  ['**', 'file', 'exact'],
  ['**', 'file/', 'exact'],
  ['**/', 'file', 'exact'],
  ['**/', 'file/', 'exact'],
  ['**', '/', 'exact'],
  ['**/', '/', 'exact'],
  ['**', 'dir/file', 'exact'],
  ['**/', 'dir/file', 'exact'],
  ['**', 'dir/file/', 'exact'],
  ['**/', 'dir/file/', 'exact'],
  ['**/**', 'dir/file', 'exact'],
  ['**/**', 'dir/file/', 'exact'],
  ['dir/**', 'dir/file', 'exact'],
  ['dir/**', 'dir/file/', 'exact'],
  ['dir/**', 'dir/dir2/file', 'exact'],
  ['dir/**', 'dir/dir2/file/', 'exact'],
  ['**/dir', 'dir', 'exact'],
  ['**/dir', 'dir/file', 'inexact'],
  ['**/dir2/*', 'dir/dir2/file', 'exact'],
  ['**/dir2/*', 'dir/dir2/file/', 'inexact'],
  ['**/dir2/**', 'dir/dir2/dir3/file', 'exact'],
  ['**/dir2/**', 'dir/dir2/dir3/file/', 'exact'],
  ['**file', 'file', 'exact'],
  ['**file', 'dir/file', 'exact'],
  ['**/file', 'dir/file', 'exact'],
  ['**file', 'dir/dir/file', 'exact'],
  ['**/file', 'dir/dir/file', 'exact'],
  ['**/file*', 'dir/dir/file', 'exact'],
  ['**/file*', 'dir/dir/file.txt', 'exact'],
  ['**/file*txt', 'dir/dir/file.txt', 'exact'],
  ['**/file*.txt', 'dir/dir/file.txt', 'exact'],
  ['**/file*.txt*', 'dir/dir/file.txt', 'exact'],
  ['**/**/*.txt', 'dir/dir/file.txt', 'exact'],
  ['**/**/*.txt2', 'dir/dir/file.txt', 'fail'],
  ['**/*.txt', 'file.txt', 'exact'],
  ['**/**/*.txt', 'file.txt', 'exact'],
  ['a**/*.txt', 'a/file.txt', 'exact'],
  ['a**/*.txt', 'a/dir/file.txt', 'exact'],
  ['a**/*.txt', 'a/dir/dir/file.txt', 'exact'],
  ['a/*.txt', 'a/dir/file.txt', 'fail'],
  ['a/*.txt', 'a/file.txt', 'exact'],
  ['a/*.txt**', 'a/file.txt', 'exact'],
  ['a[b-d]e', 'ae', 'fail'],
  ['a[b-d]e', 'ace', 'exact'],
  ['a[b-d]e', 'aae', 'fail'],
  ['a[^b-d]e', 'aze', 'exact'],
  ['.*', '.foo', 'exact'],
  ['.*', 'foo', 'fail'],
  ['abc.def', 'abcdef', 'fail'],
  ['abc.def', 'abc.def', 'exact'],
  ['abc.def', 'abcZdef', 'fail'],
  ['abc?def', 'abcZdef', 'exact'],
  ['abc?def', 'abcdef', 'fail'],
  ['**/foo/bar', 'foo/bar', 'exact'],
  ['**/foo/bar', 'dir/foo/bar', 'exact'],
  ['**/foo/bar', 'dir/dir2/foo/bar', 'exact'],
  ['abc/**', 'abc', 'fail'],
  ['abc/**', 'abc/def', 'exact'],
  ['abc/**', 'abc/def/ghi', 'exact'],
  ['**/.foo', '.foo', 'exact'],
  ['**/.foo', 'bar.foo', 'fail'],
  ['a(b)c/def', 'a(b)c/def', 'exact'],
  ['a(b)c/def', 'a(b)c/xyz', 'fail'],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', 'exact'],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  ['a\\\\', 'a\\', 'exact'],
  ['a\\*b', 'a*b', 'exact'],
];

const MULTI: Array<[string[], string, boolean]> = [
  [['**', '!util/docker/web'], 'util/docker/web/foo', false],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
  [['**', '!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['*.go'], 'fileutils.go', true],
  [['*'], 'fileutils.go', true],
  [['!fileutils.go', '*.go'], 'fileutils.go', true],
  [['docs', '!docs/README.md'], 'docs/README.md', false],
  [['docs/', '!docs/README.md'], 'docs/README.md', false],
  [['docs/*', '!docs/README.md'], 'docs/README.md', false],
  [['*.go', '!fileutils.go'], 'fileutils.go', false],
  [['*.go'], '.', false],
  [[], '/any/path/there', false],
  [['docs'], 'docs/sub/deep/file', true],
  [['*/tmp/*'], 'x/tmp/y', true],
  [['*/tmp/*'], 'tmp/y', false],
];

// Go's filepath.Match tests (as copied into patternmatcher_test.go): [pattern, name, match, bad pattern].
const GO_MATCH: Array<[string, string, boolean, boolean]> = [
  ['abc', 'abc', true, false],
  ['*', 'abc', true, false],
  ['*c', 'abc', true, false],
  ['a*', 'a', true, false],
  ['a*', 'abc', true, false],
  ['a*', 'ab/c', false, false],
  ['a*/b', 'abc/b', true, false],
  ['a*/b', 'a/c/b', false, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true, false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false, false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false, false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true, false],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false, false],
  ['ab[c]', 'abc', true, false],
  ['ab[b-d]', 'abc', true, false],
  ['ab[e-g]', 'abc', false, false],
  ['ab[^c]', 'abc', false, false],
  ['ab[^b-d]', 'abc', false, false],
  ['ab[^e-g]', 'abc', true, false],
  ['a\\*b', 'a*b', true, false],
  ['a\\*b', 'ab', false, false],
  ['a?b', 'a☺b', true, false],
  ['a[^a]b', 'a☺b', true, false],
  ['a???b', 'a☺b', false, false],
  ['a[^a][^a][^a]b', 'a☺b', false, false],
  ['[a-ζ]*', 'α', true, false],
  ['*[a-ζ]', 'A', false, false],
  ['a?b', 'a/b', false, false],
  ['a*b', 'a/b', false, false],
  ['[\\]a]', ']', true, false],
  ['[\\-]', '-', true, false],
  ['[x\\-]', 'x', true, false],
  ['[x\\-]', '-', true, false],
  ['[x\\-]', 'z', false, false],
  ['[\\-x]', 'x', true, false],
  ['[\\-x]', '-', true, false],
  ['[\\-x]', 'a', false, false],
  ['[]a]', ']', false, true],
  ['[-]', '-', false, true],
  ['[x-]', 'x', false, true],
  ['[x-]', '-', false, true],
  ['[x-]', 'z', false, true],
  ['[-x]', 'x', false, true],
  ['[-x]', '-', false, true],
  ['[-x]', 'a', false, true],
  ['\\', 'a', false, true],
  ['[a-b-c]', 'a', false, true],
  ['[', 'a', false, true],
  ['[^', 'a', false, true],
  ['[^bc', 'a', false, true],
  ['a[', 'ab', false, true],
  ['*x', 'xxx', true, false],
];

describe('.dockerignore patterns (moby/patternmatcher)', () => {
  it('matches single patterns as MatchesOrParentMatches does', () => {
    for (const [pattern, text, pass] of SINGLE) {
      const m = new IgnoreMatcher([pattern]);
      assert.equal(m.matches(text), pass !== 'fail', `pattern=${JSON.stringify(pattern)} text=${JSON.stringify(text)}`);
    }
  });

  it('applies patterns in order, exceptions re-including', () => {
    for (const [patterns, text, want] of MULTI) {
      assert.equal(new IgnoreMatcher(patterns).matches(text), want, `patterns=${JSON.stringify(patterns)} text=${text}`);
    }
  });

  it('matches as Go filepath.Match for patterns without "**", and refuses malformed ones', () => {
    for (const [pattern, name, want, bad] of GO_MATCH) {
      const label = `Match(${JSON.stringify(pattern)}, ${JSON.stringify(name)})`;
      if (bad) {
        assert.throws(() => goMatch(pattern, name), /syntax error in pattern/, label);
        assert.throws(() => new IgnoreMatcher([pattern]), (e: unknown) => isBerthError(e, 'InvalidArgument'), label);
        continue;
      }
      assert.equal(goMatch(pattern, name), want, label);
      assert.equal(new IgnoreMatcher([pattern]).matches(name), want || (pattern === 'a*' && name === 'ab/c'), label);
    }
  });

  it('refuses a lone "!" and reports a pattern the regexp engine rejects at use', () => {
    assert.throws(() => new IgnoreMatcher(['!']), /illegal exclusion pattern/);
    const m = new IgnoreMatcher(['[Local-Only]/']);
    assert.throws(() => m.matches('x'), (e: unknown) => isBerthError(e, 'InvalidArgument'));
    assert.throws(() => m.matches('x'), (e: unknown) => isBerthError(e, 'InvalidArgument'));
  });

  it('never ignores the root', () => {
    assert.equal(new IgnoreMatcher(['**', '*', '.']).matches('.'), false);
    assert.equal(new IgnoreMatcher(['**']).matches(''), false);
  });

  it('tells which ignored directories must still be walked for exceptions', () => {
    const m = new IgnoreMatcher(['docs', 'vendor', '!docs/README.md', '!*/keep/*.txt', 'build', '!**/important']);
    assert.equal(m.mustWalk('docs'), true); // Docker's string-prefix case
    assert.equal(m.mustWalk('vendor'), true); // "**/important" could be anywhere
    const n = new IgnoreMatcher(['docs', 'vendor', 'a', '!docs/README.md', '!*/keep/*.txt']);
    assert.equal(n.mustWalk('vendor'), true); // "*/keep/..." matches vendor/keep/x.txt
    assert.equal(n.mustWalk('vendor/keep'), true);
    assert.equal(n.mustWalk('vendor/other'), false);
    assert.equal(n.mustWalk('a/keep/deeper'), false);
    assert.equal(new IgnoreMatcher(['docs']).mustWalk('docs'), false);
    assert.equal(new IgnoreMatcher(['docs', '!other/x']).mustWalk('docs'), false);
  });

  it('keeps build files by appending exceptions, as docker/cli does', () => {
    const m = new IgnoreMatcher(['*', '!src']).keeping(['.dockerignore', 'Dockerfile', 'src/x']);
    assert.deepEqual(m.patternList, ['*', '!src', '!.dockerignore', '!Dockerfile']);
    assert.equal(m.matches('Dockerfile'), false);
    assert.equal(m.matches('other'), true);
  });
});

describe('.dockerignore file syntax (ignorefile.ReadAll)', () => {
  it('trims, drops comments and blank lines, cleans, strips a leading "/"', () => {
    const text = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ';
    assert.deepEqual(parseIgnoreFile(text), ['test1', 'test2', 'a/file/here', 'lastfile', '!inverted/abs/path', '!', '!']);
  });

  it('handles a BOM, CRLF, "./" and "..", and "#" only at the start of a line', () => {
    const text = '\ufeffnode_modules\r\n./build/../dist//\r\n  # not a comment\r\n*.log  \r\n/\r\n';
    assert.deepEqual(parseIgnoreFile(text), ['node_modules', 'dist', '# not a comment', '*.log', '/']);
  });

  it('reads a whole file into a matcher', () => {
    const m = IgnoreMatcher.fromFile('# build output\n*.o\n!keep.o\nsecret/\n');
    assert.equal(m.matches('a.o'), true);
    assert.equal(m.matches('keep.o'), false);
    assert.equal(m.matches('secret/key'), true);
    assert.equal(m.matches('src/a.o'), false); // "*" does not cross "/"
  });
});

describe('where the ignore file is', () => {
  it('looks next to the Dockerfile first, then at the context root', () => {
    assert.deepEqual(ignoreFileFor('Dockerfile'), ['Dockerfile.dockerignore', '.dockerignore']);
    assert.deepEqual(ignoreFileFor('sub/Dockerfile'), ['sub/Dockerfile.dockerignore', '.dockerignore']);
    assert.deepEqual(ignoreFileFor('./sub//app.Dockerfile'), ['sub/app.Dockerfile.dockerignore', '.dockerignore']);
    assert.deepEqual(ignoreFileFor('../outside/Dockerfile'), ['.dockerignore']);
  });
});
