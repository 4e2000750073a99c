// Every API method against tsvirtd and against a private real libvirtd, over unix and TCP: the
// results must be what libvirt-python returns for the same calls on the same daemon.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { describeRun, runPython } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { pythonScript, runOurs } from './scenario.js';

async function compare(uri: string): Promise<void> {
  // Sequential: the daemon drops test:///default's state when the last connection closes, so
  // each side starts from the same fresh state.
  const py = await runPython(pythonScript(), [uri], { timeoutMs: 60_000 });
  assert.equal(py.code, 0, describeRun(py));
  const want = JSON.parse(py.stdout) as unknown[][];
  await new Promise((r) => setTimeout(r, 100));
  const got = await runOurs(uri);
  const diffs = want.flatMap((w, i) => {
    try {
      assert.deepStrictEqual(got[i], w);
      return [];
    } catch {
      return [`python ${JSON.stringify(w)}\nours   ${JSON.stringify(got[i])}`];
    }
  });
  assert.equal(diffs.length, 0, `${diffs.length} of ${want.length} calls differ on ${uri}:\n${diffs.join('\n')}`);
  assert.equal(got.length, want.length);
}

describe('typed API versus libvirt-python, on tsvirtd', () => {
  let d: Libvirtd;
  before(async () => (d = await startTsvirtd({ tcp: true })));
  after(() => d?.stop());
  test('unix', () => compare(d.uri('test')));
  test('tcp', () => compare(d.uri('test', { transport: 'tcp' })));
});

describe('typed API versus libvirt-python, on libvirtd', { skip: libvirtdSkipReason() }, () => {
  let d: Libvirtd;
  before(async () => (d = await startLibvirtd({ tcp: true })));
  after(() => d?.stop());
  test('unix', () => compare(d.uri('test')));
  test('tcp', () => compare(d.uri('test', { transport: 'tcp' })));
});

describe('typed API versus libvirt-python, in-process', () => {
  // Both libraries run the test driver inside their own process for test:///default.
  test('test:///default', () => compare('test:///default'));
});
