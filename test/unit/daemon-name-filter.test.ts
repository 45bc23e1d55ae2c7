// The `name` filter of GET /containers/json: Docker's regexp-or-exact semantics, without
// patterns that would make JavaScript's backtracking RegExp run for ever.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasNestedRepetition, nameFilter } from '../../src/daemon/containers/name-filter.js';
import { isBerthError } from '../../src/util/errors.js';

describe('name filter', () => {
  it('matches as a regexp, anywhere in the name unless anchored', () => {
    assert.equal(nameFilter('web')('my-web-1'), true);
    assert.equal(nameFilter('^web')('my-web-1'), false);
    assert.equal(nameFilter('^my-(web|db)-\\d+$')('my-db-12'), true);
    assert.equal(nameFilter('[0-9]+$')('web1'), true);
  });

  it('compares exactly when the value is not a valid regexp, as dockerd does', () => {
    assert.equal(nameFilter('web[')('web['), true);
    assert.equal(nameFilter('web[')('web'), false);
  });

  it('compares exactly for lookarounds and backreferences, which Go\'s RE2 does not compile', () => {
    assert.equal(nameFilter('(?=w)web')('web'), false);
    assert.equal(nameFilter('(?=w)web')('(?=w)web'), true);
    assert.equal(nameFilter('(a)\\1')('aa'), false);
  });

  it('refuses a repeated group that repeats or alternates inside, with a 400 naming the filter', () => {
    for (const pattern of ['(a+)+$', '(a*)*b', '(a|aa)+$', '(x?){2,}', '((ab)*c)+', '(?:[a-z]+\\d)*$']) {
      assert.throws(() => nameFilter(pattern), (err: unknown) => isBerthError(err, 'InvalidArgument') && (err as Error).message.includes(`name=${pattern}`), pattern);
    }
  });

  it('allows quantifiers that cannot nest', () => {
    for (const pattern of ['a+b*c?', '(ab)+', '(web|db)-\\d+', '[(a+)]+', '\\(a+\\)+', '(a){3}', 'x(a+)', '^(web|db)$', '(?:ab)+', '(?<n>ab)+']) {
      assert.equal(hasNestedRepetition(pattern), false, pattern);
    }
  });
});
