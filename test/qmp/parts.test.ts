// The sans-IO pieces on their own: line splitting with its limit, message classification, and
// the event iterator's queue.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventIterator, LineDecoder, MessageTooLongError, ProtocolError, parseMessage, type QmpEvent } from '../../src/qmp/index.js';

const T = { timeout: 5000 };

test('LineDecoder yields the same lines wherever the stream is split, multi-byte characters included', T, () => {
  const text = '{"a": "é→😀"}\r\n{"b": 2}\n\n{"c": 3}\n';
  const bytes = Buffer.from(text);
  const whole = new LineDecoder().feed(bytes);
  assert.deepEqual(whole, ['{"a": "é→😀"}\r', '{"b": 2}', '', '{"c": 3}']);
  for (let i = 0; i <= bytes.length; i++) {
    for (const j of [i, Math.min(bytes.length, i + 3)]) {
      const d = new LineDecoder();
      const got = [...d.feed(bytes.subarray(0, i)), ...d.feed(bytes.subarray(i, j)), ...d.feed(bytes.subarray(j))];
      assert.deepEqual(got, whole, `split at ${i}/${j}`);
      assert.equal(d.buffered, 0);
    }
  }
});

test('LineDecoder accepts a line of exactly maxBytes and refuses one byte more, before buffering it', T, () => {
  const d = new LineDecoder(8);
  assert.deepEqual(d.feed(Buffer.from('12345678\n')), ['12345678']);
  assert.deepEqual(d.feed(Buffer.from('1234')), []);
  assert.deepEqual(d.feed(Buffer.from('5678\n')), ['12345678']);
  assert.deepEqual(d.feed(Buffer.from('12345')), []);
  assert.throws(() => d.feed(Buffer.from('6789')), (e: unknown) => e instanceof MessageTooLongError && e.limit === 8);
  assert.equal(d.buffered, 5, 'the oversized chunk was never stored');
  // Also when the newline comes too late within one chunk.
  assert.throws(() => new LineDecoder(4).feed(Buffer.from('12345\n')), MessageTooLongError);
});

test('parseMessage classifies greeting, event, return and error, and rejects everything else', T, () => {
  const g = parseMessage('{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}');
  assert.deepEqual(g, { kind: 'greeting', greeting: { version: { qemu: { major: 7, minor: 2, micro: 22 }, package: 'Debian' }, capabilities: ['oob'] } });
  const e = parseMessage('{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}');
  assert.deepEqual(e, { kind: 'event', event: { event: 'STOP', data: {}, timestamp: { seconds: 1, microseconds: 2 } } });
  const r = parseMessage('{"return": [1], "id": "x"}');
  assert.equal(r.kind, 'return');
  assert.deepEqual(r.kind === 'return' && r.value, [1]);
  const err = parseMessage('{"id": 7, "error": {"class": "GenericError", "desc": "nope"}}');
  assert.deepEqual(err.kind === 'error' && [err.id, err.errorClass, err.desc], [7, 'GenericError', 'nope']);
  for (const bad of ['', '{', 'null', '"s"', '[]', '{}', '{"error": "x"}', '{"QMP": {}}', '{"event": 3}', '{"QMP": {"version": {"qemu": {}}, "capabilities": []}}']) {
    assert.throws(() => parseMessage(bad), ProtocolError, bad);
  }
});

const ev = (event: string, i = 0): QmpEvent => ({ event, data: { i }, timestamp: { seconds: 0, microseconds: 0 } });

test('EventIterator: a waiting next() gets the next event; end() finishes it after the queue drains', T, async () => {
  let removed = 0;
  const it = new EventIterator({}, () => removed++);
  const waiting = it.next();
  assert.equal(it.push(ev('A')), true);
  assert.equal((await waiting).value?.event, 'A');
  it.push(ev('B'));
  const tail = it.next();
  it.end();
  assert.equal((await tail).value?.event, 'B', 'queued events survive the end');
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  assert.equal(it.push(ev('C')), false);
  assert.equal(removed, 1);
  // A waiter parked when the end comes is released.
  const it2 = new EventIterator({}, () => {});
  const parked = it2.next();
  it2.end();
  assert.deepEqual(await parked, { value: undefined, done: true });
});

test('EventIterator: overflow drops the oldest and counts; a throwing predicate means no match', T, () => {
  const it = new EventIterator({ maxQueue: 2, predicate: (e) => (e.data.i === 99 ? (() => { throw new Error('x'); })() : true) }, () => {});
  for (let i = 0; i < 5; i++) it.push(ev('N', i));
  assert.equal(it.push(ev('N', 99)), false);
  assert.equal(it.size, 2);
  assert.equal(it.dropped, 3);
});
