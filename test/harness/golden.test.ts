import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goldenNames, loadGolden, messageBytes, verifyGolden, type GoldenFixture, type GoldenMessage } from './golden.js';

const EXPECTED = ['dominfo', 'error-resume', 'event', 'keepalive', 'list-all', 'nodeinfo', 'stream', 'unknown-proc', 'version'];

test('every expected golden capture is committed', () => {
  const have = goldenNames();
  for (const n of EXPECTED) assert.ok(have.includes(n), `test/fixtures/golden/${n}.json missing`);
});

for (const name of goldenNames()) {
  test(`golden ${name}: frames are whole and replies echo their call`, () => {
    const f = loadGolden(name);
    assert.match(f.libvirt, /^9\.0\.0/);
    assert.ok(f.messages.length > 0);
    assert.deepEqual(verifyGolden(f), []);
  });
}

test('golden error-resume carries the documented remote_error', () => {
  const err = loadGolden('error-resume').messages.find((m) => m.dir === 's2c' && m.proc === 28);
  assert.ok(err);
  assert.equal(err.type, 1);
  assert.equal(err.status, 1);
  const b = messageBytes(err);
  assert.equal(b.readInt32BE(28), 1, 'code VIR_ERR_INTERNAL_ERROR');
  assert.equal(b.readInt32BE(32), 12, 'domain VIR_FROM_TEST');
  assert.equal(b.readInt32BE(b.length - 12), -1, 'int1');
  assert.equal(b.readInt32BE(b.length - 8), -1, 'int2');
  assert.ok(b.includes("internal error: domain 'test' not paused"));
});

test('golden event holds two lifecycle MESSAGEs with serial 1', () => {
  const events = loadGolden('event').messages.filter((m) => m.proc === 318 && m.type === 2);
  assert.deepEqual(events.map((m) => [m.dir, m.serial, m.status]), [['s2c', 1, 0], ['s2c', 1, 0]]);
});

const call = (serial: number, over: Partial<GoldenMessage> = {}): GoldenMessage => {
  const b = Buffer.alloc(28);
  [28, 0x20008086, 1, 66, 0, serial, 0].forEach((v, i) => b.writeUInt32BE(v, i * 4));
  return { dir: 'c2s', hex: b.toString('hex'), prog: 0x20008086, proc: 66, type: 0, serial, status: 0, decoded: '', ...over };
};

const reply = (serial: number): GoldenMessage => {
  const b = Buffer.alloc(28);
  [28, 0x20008086, 1, 66, 1, serial, 0].forEach((v, i) => b.writeUInt32BE(v, i * 4));
  return { dir: 's2c', hex: b.toString('hex'), prog: 0x20008086, proc: 66, type: 1, serial, status: 0, decoded: '' };
};

const fixture = (messages: GoldenMessage[]): GoldenFixture => ({ description: '', command: '', libvirt: '9.0.0', messages });

test('verifyGolden rejects a bad length word, a mismatched field and an unmatched reply', () => {
  assert.deepEqual(verifyGolden(fixture([call(0), reply(0)])), []);
  const badLen = call(0);
  assert.match(verifyGolden(fixture([{ ...badLen, hex: '0000001d' + badLen.hex.slice(8) }])).join(), /length word 29 != 28/);
  assert.match(verifyGolden(fixture([call(0, { serial: 5 })])).join(), /field serial=5 but header says 0/);
  assert.match(verifyGolden(fixture([call(0), reply(1)])).join(), /no earlier call/);
});
