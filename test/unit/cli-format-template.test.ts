// The Go text/template subset behind --format. Cases from docker/cli templates/templates_test.go,
// plus the Go text/template behaviour docker's own templates rely on (version.go, prune.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoStruct, HEADER_FUNCS, Template, TemplateExecError, TemplateParseError, goJSON } from '../../src/cli/format/template.js';

const run = (src: string, data: unknown): string => Template.parse(src).execute(data);

test('docker templates_test.go: json, split/join, truncate, pad', () => {
  assert.equal(run('{{json .Ports}}', { Ports: '0.0.0.0:2->8/udp' }), '"0.0.0.0:2->8/udp"');
  assert.equal(run('{{join (split . ":") "/"}}', 'text:with:colon'), 'text/with/colon');
  assert.equal(run('this is a {{ . }}', 'string'), 'this is a string');
  const source = 'tupx5xzf6hvsrhnruz5cr8gwp';
  assert.equal(run('{{truncate . 5}}', source), 'tupx5');
  assert.equal(run('{{truncate . 25}}', source), source);
  assert.equal(run('{{truncate . 30}}', source), source);
  assert.equal(run('{{pad . 3 3}}', source), `   ${source}   `);
  assert.equal(run('{{pad . 3 3}}', ''), '');
  assert.throws(() => run('{{truncate . 5}}', null), TemplateExecError);
});

test('docker HeaderFunctions leave the column name intact', () => {
  for (const src of ['{{ json .}}', '{{ split . ","}}', '{{ join . ","}}', '{{ title .}}', '{{ lower .}}', '{{ upper .}}', '{{ truncate . 2}}']) {
    assert.equal(Template.parse(src).withFuncs(HEADER_FUNCS).execute('hello world'), 'hello world', src);
  }
});

test('Go printing of values: maps sorted, slices, structs, missing keys', () => {
  assert.equal(run('{{.M}}', { M: { b: '2', a: '1' } }), 'map[a:1 b:2]');
  assert.equal(run('{{.L}}', { L: ['x', 'y'] }), '[x y]');
  assert.equal(run('{{.P}}', { P: { HostIp: '', HostPort: '8080' } }), '{ 8080}');
  assert.equal(run('{{.Nope}}', {}), '<no value>');
  assert.equal(run('{{.N}} {{.F}} {{.B}} {{.Z}}', { N: 42, F: 0.5, B: true, Z: null }), '42 0.5 true <nil>');
});

test('control structures, variables, trim markers, comments', () => {
  assert.equal(run('{{range $i, $v := .}}{{$i}}={{$v}} {{end}}', ['a', 'b']), '0=a 1=b ');
  assert.equal(run('{{range $k, $v := .}}{{$k}}={{$v}};{{end}}', { z: 1, a: 2 }), 'a=2;z=1;');
  assert.equal(run('{{range .}}x{{else}}empty{{end}}', []), 'empty');
  assert.equal(run('{{if .A}}a{{else if .B}}b{{else}}c{{end}}', { A: '', B: 1 }), 'b');
  assert.equal(run('{{with .A}}{{.}}{{else}}none{{end}}', { A: 0 }), 'none');
  assert.equal(run('{{$x := .A}}{{if $x}}{{$x}}{{end}}', { A: 'v' }), 'v');
  assert.equal(run('a  {{- .A -}}  b', { A: '|' }), 'a|b');
  assert.equal(run('{{/* note */}}x', {}), 'x');
  assert.equal(run('{{range .}}{{if eq . 3}}{{break}}{{end}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}', [0, 1, 2, 3, 4]), '02');
  assert.equal(run('{{.A | printf "%q"}}', { A: 'x' }), '"x"');
});

test('builtins: comparison, logic, len, index, print family', () => {
  assert.equal(run('{{eq .A "x" "y"}} {{ne 1 2}} {{lt 1 2}} {{ge "b" "a"}}', { A: 'y' }), 'true true true true');
  assert.equal(run('{{and 1 0}} {{or 0 "" "z"}} {{not 1}}', {}), '0 z false');
  assert.equal(run('{{len .}} {{len "héllo"}}', [1, 2, 3]), '3 6');
  assert.equal(run('{{index .L 1}} {{index .M "k"}} [{{index .M "missing"}}]', { L: ['a', 'b'], M: { k: 'v' } }), 'b v []');
  assert.equal(run('{{printf "%-6s|%5.2f|%03d|%v|%x" "ab" 3.14159 7 .L 255}}', { L: ['a'] }), 'ab    | 3.14|007|[a]|ff');
  assert.equal(run('{{print "a" 1 2 "b"}}', {}), 'a1 2b');
  assert.equal(run('{{println "a" 1}}', {}), 'a 1\n');
  assert.equal(run('{{upper .}} {{lower .}} {{title .}}', 'hello World'), 'HELLO WORLD hello world Hello World');
});

test('methods with arguments and Go structs', () => {
  class Row {
    Label(name: string): string {
      return `label:${name}`;
    }
  }
  assert.equal(run('{{.Label "com.example"}}', new Row()), 'label:com.example');
  const s = new GoStruct({ Name: 'x' }, 'system.versionInfo');
  assert.equal(run('{{.Name}}', s), 'x');
  assert.throws(() => run('{{.Nope}}', s), {
    message: 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type system.versionInfo',
  });
});

test('errors read like Go text/template errors', () => {
  assert.throws(() => Template.parse('{{.ID'), { name: 'Error', message: 'template: :1: unclosed action' });
  assert.throws(() => Template.parse('{{foo .}}'), { message: 'template: :1: function "foo" not defined' });
  assert.throws(() => Template.parse('{{if .A}}x'), TemplateParseError);
  assert.throws(() => Template.parse('{{end}}'), { message: 'template: :1: unexpected {{end}}' });
  assert.throws(() => run('x\n{{join .A ","}}', { A: 'str' }), {
    message: 'template: :2:7: executing "" at <.A>: wrong type for value; expected []string; got string',
  });
  assert.throws(() => run('{{join .A}}', { A: ['a'] }), { message: 'template: :1:2: executing "" at <join>: wrong number of args for join: want 2 got 1' });
  assert.throws(() => Template.parse('{{.A}}', { missingKeyError: true }).execute({}), { message: 'template: :1:2: executing "" at <.A>: map has no entry for key "A"' });
});

test('json like Go encoding/json: sorted map keys, struct order, no HTML escaping', () => {
  assert.equal(goJSON({ b: 1, a: { Z: 1, A: 2 } }), '{"a":{"Z":1,"A":2},"b":1}');
  assert.equal(goJSON({ s: '<&>\u2028' }), '{"s":"<&>\\u2028"}');
  assert.equal(goJSON([]), '[]');
});
