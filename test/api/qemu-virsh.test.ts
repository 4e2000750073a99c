// tsvirsh's QEMU helpers: virsh 9.0's JSON re-printing (yajl's output, checked against stock
// virsh on a live guest) and its wrapping of `CMD ARGS...` into a QMP command.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { wrapQmpCommand } from '../../src/cli/commands/qemu.js';
import { formatJson, parseJson, reformatJson } from '../../src/cli/commands/qemu-json.js';
import { CliError } from '../../src/cli/ctl.js';

describe('virsh JSON printing', () => {
  test('pretty form: two-space indent, ": ", yajl empty containers, no final newline', () => {
    assert.equal(reformatJson('{"return":{"status":"running","running":true},"id":"libvirt-1"}'), '{\n  "return": {\n    "status": "running",\n    "running": true\n  },\n  "id": "libvirt-1"\n}');
    assert.equal(reformatJson('[]'), '[\n\n]');
    assert.equal(reformatJson('{}'), '{\n\n}');
    assert.equal(reformatJson('{"a":[]}'), '{\n  "a": [\n\n  ]\n}');
    assert.equal(reformatJson('"pc"'), '"pc"');
    assert.equal(reformatJson('not json'), null);
  });

  test('numbers keep their text; strings are re-escaped as yajl does', () => {
    assert.equal(formatJson(parseJson('[18446744073709551615, 1.50, -0, 1e3]'), false), '[18446744073709551615,1.50,-0,1e3]');
    assert.equal(formatJson(parseJson('"a\\/b\\u00e9\\u001f\\r\\n\\t\\"\\\\"'), false), '"a/bé\\u001F\\r\\n\\t\\"\\\\"');
    assert.throws(() => parseJson('{"a":1,}'));
    assert.throws(() => parseJson('{"a":1} x'));
  });
});

describe('virsh qemu-monitor-command CMD...', () => {
  test('JSON passes through; a name and members are wrapped', () => {
    assert.equal(wrapQmpCommand(['{"execute":"query-status",', '"arguments":{}}']), '{"execute":"query-status", "arguments":{}}');
    assert.equal(wrapQmpCommand(['query-status']), '{"execute":"query-status"}');
    assert.equal(wrapQmpCommand(['query-status', '{}']), '{"execute":"query-status","arguments":{}}');
    assert.equal(wrapQmpCommand(['qom-get', '"path":"/machine"', '"property":"type"']), '{"execute":"qom-get","arguments":{"path":"/machine","property":"type"}}');
    assert.throws(() => wrapQmpCommand(['qom-get', 'path=/machine', 'x']), (e: unknown) => e instanceof CliError && e.message === "failed to wrap arguments 'path=/machine x' into a QMP command wrapper");
  });
});
