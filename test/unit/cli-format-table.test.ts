// Column alignment as Go's text/tabwriter with docker's settings, and docker's table formats
// (formatter.Context.Write: header from the column names, "table" prefix, \t and \n escapes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TabWriter, alignTable } from '../../src/cli/format/table.js';
import { HeaderMap, formatRows } from '../../src/cli/format/formatter.js';
import { FormatContext } from '../../src/cli/format/template.js';

test('tabwriter: cells padded to the widest plus padding, minwidth honoured', () => {
  // minwidth 10 includes the padding: "aaa" + 3 < 10, so the column is 10 wide.
  assert.equal(alignTable('a\tb\tc\naaa\tbbbbbbbbbbbbb\tc\n'), 'a         b               c\naaa       bbbbbbbbbbbbb   c\n');
  // The last cell of a line is not padded; a line without tabs ends the column block.
  assert.equal(alignTable('x\ty\nno tabs here\nlonger\tz\n', 1, 1), 'x y\nno tabs here\nlonger z\n');
  // A line's last cell is not tab-terminated, so it does not widen its column ("bbbb" below).
  const w = new TabWriter(0, 1);
  w.write('a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n');
  assert.equal(w.flush(), 'a   b   c\naa  bbb cccc\naaa bbbb\n');
  // Wide characters count twice.
  assert.equal(alignTable('你好\tx\nab\ty\n', 0, 1), '你好 x\nab   y\n');
});

class Row extends FormatContext {
  readonly goType = '*test.row';
  constructor(private readonly id: string, private readonly name: string) {
    super();
  }
  protected jsonFields(): string[] {
    return ['ID', 'Name'];
  }
  ID(): string {
    return this.id;
  }
  Name(): string {
    return this.name;
  }
}

const header = new HeaderMap({ ID: 'CONTAINER ID', Name: 'NAME' });
const rows = [new Row('abc', 'web'), new Row('defghijklmnop', 'db&<x>')];

test('table formats print the header and align like docker', () => {
  assert.equal(formatRows('table {{.ID}}\\t{{.Name}}', rows, header), 'CONTAINER ID    NAME\nabc             web\ndefghijklmnop   db&<x>\n');
  assert.equal(formatRows('table {{.ID}}', [], header), 'CONTAINER ID\n');
  assert.equal(formatRows('table {{.Label "com.docker.compose.project"}}', [], header), 'project\n');
  assert.equal(formatRows('table {{.Nope}}', [], header), '<no value>\n');
});

test('plain and json formats print one line per row', () => {
  assert.equal(formatRows('{{.ID}}: {{.Name}}', rows, header), 'abc: web\ndefghijklmnop: db&<x>\n');
  assert.equal(formatRows('json', rows, header), '{"ID":"abc","Name":"web"}\n{"ID":"defghijklmnop","Name":"db\\u0026\\u003cx\\u003e"}\n');
  assert.equal(formatRows('{{.ID}}', [], header), '');
});

test('template errors are docker\'s "template parsing error"', () => {
  assert.throws(() => formatRows('{{.Nope}}', rows, header), {
    message: 'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *test.row',
  });
  assert.throws(() => formatRows('{{.ID', rows, header), { message: 'template parsing error: template: :1: unclosed action' });
});
