import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrError, XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { CompileError, compile, moduleSpecifier, stripCommonPrefix } from '../../src/xdr/compiler/index.js';
import { codec, compileSource, loadFixture, typecheckFixture, type FixtureModule } from './fixture.js';
import { hex } from './hex.js';

function encode(m: FixtureModule, name: string, v: unknown): Uint8Array {
  const w = new XdrWriter(8);
  codec(m, name).encode(w, v);
  return w.bytes().slice();
}

function decode(m: FixtureModule, name: string, bytes: Uint8Array): unknown {
  const r = new XdrReader(bytes);
  const v = codec(m, name).decode(r);
  assert.equal(r.remaining, 0, 'decoder must consume the whole vector');
  return v;
}

function roundTrip(m: FixtureModule, name: string, v: unknown, bytes: Uint8Array): void {
  assert.deepEqual(encode(m, name, v), bytes, `${name} encodes to the vector`);
  assert.deepEqual(decode(m, name, bytes), v, `${name} decodes from the vector`);
}

function decodeError(m: FixtureModule, name: string, bytes: Uint8Array): XdrError {
  try {
    codec(m, name).decode(new XdrReader(bytes));
  } catch (e) {
    assert.ok(e instanceof XdrError, `expected XdrError, got ${String(e)}`);
    return e;
  }
  return assert.fail('decode should have failed');
}

function compileError(text: string): string {
  try {
    compileSource(text);
  } catch (e) {
    assert.ok(e instanceof CompileError, String(e));
    return e.message;
  }
  return assert.fail('compile should have failed');
}

test('generated fixture module type-checks under strict settings', () => {
  assert.deepEqual(typecheckFixture(), []);
});

test('constants and enums', async () => {
  const m = await loadFixture();
  assert.equal(m.NAME_MAX, 8);
  assert.equal(m.BIG_HEX, 0x20008086);
  assert.equal(m.MINUS, -5);
  assert.equal(m.OCTAL, 8);
  assert.equal(m.ALIAS, 8);
  const color = m.Color as Record<string, number>;
  assert.equal(color.RED, 1);
  assert.equal(color.DARK_GREEN, 2);
  assert.equal(color.BLUE, 16);
  assert.deepEqual(
    [(m.Level as Record<string, number>).NONE, (m.Level as Record<string, number>).LOW, (m.Level as Record<string, number>).MAX],
    [0, 1, 8],
  );
  assert.equal((m.Mode as Record<string, number>).MODE_1X, 1, 'keeps a segment rather than start with a digit');
  // Enum codecs accept values the enum does not list (libvirt adds members between versions).
  assert.equal(codec(m, 'ColorCodec').decode(new XdrReader(hex('00000063'))), 99);
  assert.equal(m.TEST_PROGRAM, 0x31234567);
  assert.equal(m.TEST_PROTOCOL_VERSION, 1);
});

test('primitives: every type takes whole words', async () => {
  const m = await loadFixture();
  roundTrip(
    m,
    'Prims',
    { i: -2, u: 0xffffffff, u2: 1, h: -1n, uh: 0xffffffffffffffffn, b: false, fl: 1.5, db: 0.5, c: -1, uc: 255, s: -2, us: 65535 },
    hex(`fffffffe ffffffff 00000001 ffffffffffffffff ffffffffffffffff 00000000 3fc00000 3fe0000000000000
         ffffffff 000000ff fffffffe 0000ffff`),
  );
  assert.throws(() => encode(m, 'Prims', { i: 0, u: 0, u2: 0, h: 0n, uh: 0n, b: true, fl: 0, db: 0, c: 200, uc: 0, s: 0, us: 0 }), (e) =>
    e instanceof XdrError && e.path.join('.') === 'Prims.c' && /outside -128\.\.127/.test(e.reason),
  );
  assert.throws(() => encode(m, 'Prims', { i: 0, u: -1, u2: 0, h: 0n, uh: 0n, b: true, fl: 0, db: 0, c: 0, uc: 0, s: 0, us: 0 }), /Prims\.u/);
});

test('everything: strings, optionals, opaque, char arrays, arrays, nested types', async () => {
  const m = await loadFixture();
  const value = {
    name: 'ab',
    aliasName: null,
    freeText: '',
    uuid: hex('000102030405060708090a0b0c0d0e0f'),
    data: hex('010203'),
    raw: new Uint8Array(0),
    tag: new TextEncoder().encode('tags'),
    label: hex('686900'),
    bytes: hex('01027f'),
    fixedInts: [1, -1, 3],
    counts: [5n],
    origin: { x: 1, y: 2 },
    path: [],
    paint: 16,
    lvl: 8,
    val: { kind: 7, s: 'xyz' },
    shp: { shapeColor: 1, center: { x: 3, y: 4 } },
    flg: { on: true, bits: [9] },
    list: { itemValue: 1, nextNode: { itemValue: 2, nextNode: null } },
    needResults: true,
    maxMem: 7,
    callbackID: 0xffffffff,
  };
  const bytes = hex(`
    00000002 61620000          # name
    00000000                   # aliasName: null
    00000000                   # freeText: ''
    00010203 04050607 08090a0b 0c0d0e0f   # uuid: 16 raw bytes
    00000003 01020300          # data: length + padding
    00000000                   # raw
    00000074 00000061 00000067 00000073   # tag: one word per char
    00000003 00000068 00000069 00000000   # label
    00000001 00000002 0000007f            # bytes
    00000001 ffffffff 00000003            # fixedInts
    00000001 00000000 00000005            # counts
    00000001 00000001 00000002            # origin
    00000000                              # path
    00000010 00000008                     # paint, lvl
    00000007 00000003 78797a00            # val
    00000001 00000003 00000004            # shp
    00000001 00000001 00000009            # flg
    00000001 00000001 00000001 00000002 00000000   # list
    00000001 00000007 ffffffff            # needResults, maxMem, callbackID
  `);
  roundTrip(m, 'Everything', value, bytes);
});

test('unions: arms, shared arms, default, bool and enum discriminants', async () => {
  const m = await loadFixture();
  roundTrip(m, 'Value', { kind: 1, i: -1 }, hex('00000001 ffffffff'));
  roundTrip(m, 'Value', { kind: 3, h: 5n }, hex('00000003 0000000000000005'));
  roundTrip(m, 'Value', { kind: 42 }, hex('0000002a'));
  roundTrip(m, 'Shape', { shapeColor: 2, corners: [{ x: 1, y: 2 }, { x: 3, y: 4 }] }, hex('00000002 00000001 00000002 00000003 00000004'));
  roundTrip(m, 'Shape', { shapeColor: 16 }, hex('00000010'));
  roundTrip(m, 'Flag', { on: false }, hex('00000000'));
  const e = decodeError(m, 'Shape', hex('00000063'));
  assert.equal(e.offset, 0);
  assert.deepEqual(e.path, ['Shape.shapeColor']);
  assert.match(e.message, /no arm of Shape for shapeColor 99/);
  assert.throws(() => encode(m, 'Shape', { shapeColor: 99 }), /no arm of Shape/);
  // A bool discriminant is strict like any bool.
  assert.match(decodeError(m, 'Flag', hex('00000002')).message, /bool must be 0 or 1/);
});

test('errors carry the field path and byte offset', async () => {
  const m = await loadFixture();
  // Second node of the list is cut short inside itemValue.
  const e = decodeError(m, 'Node', hex('00000001 00000001 0000'));
  assert.equal(e.offset, 8);
  assert.deepEqual(e.path, ['Node.nextNode', 'Node.itemValue']);
  assert.equal(e.message, 'need 4 bytes, 2 left in Node.nextNode.Node.itemValue at byte 8');
  // Array counts are checked against the bytes left before anything is allocated.
  const big = decodeError(m, 'PointList', hex('00000003 00000001'));
  assert.match(big.message, /cannot fit/);
  assert.match(decodeError(m, 'PointList', hex('00000004')).message, /exceeds maximum 3/);
  // Encoding errors name the field too.
  assert.throws(
    () => encode(m, 'PingRet', { seq: 1, when: 1n << 63n }),
    (err) => err instanceof XdrError && err.path.join('.') === 'PingRet.when',
  );
});

test('procedure tables carry the annotations', async () => {
  const m = await loadFixture();
  const p = m.TestProcedures;
  assert.deepEqual(Object.keys(p), ['NOTHING', 'PING', 'GET_EVERYTHING', 'SET_EVERYTHING', 'THING_EVENT', 'DOWNLOAD', 'UPLOAD', 'COUNT']);
  const { args, ret, ...nothing } = p.NOTHING!;
  assert.deepEqual(nothing, {
    prog: 0x31234567, vers: 1, proc: 1, name: 'NOTHING', kind: 'call', priority: 'low', generate: 'both',
    acl: [], aclFilter: [], readonly: true, stream: null, sparseFlag: null,
  });
  assert.equal(args.decode(new XdrReader(new Uint8Array(0))), undefined);
  assert.equal(ret, args, 'void on both sides uses voidCodec');
  assert.equal(p.PING!.args, m.PingArgs);
  assert.equal(p.PING!.ret, m.PingRet);
  assert.equal(p.PING!.priority, 'high');
  assert.equal(p.PING!.generate, 'client');
  assert.deepEqual(p.PING!.acl, ['connect:getattr']);
  assert.equal(p.GET_EVERYTHING!.readonly, true, 'flagged acl entries do not count');
  assert.deepEqual(p.GET_EVERYTHING!.aclFilter, ['domain:getattr']);
  assert.equal(p.SET_EVERYTHING!.readonly, false);
  assert.deepEqual(p.SET_EVERYTHING!.acl, ['domain:write', 'domain:save:!VIR_DOMAIN_AFFECT_CONFIG|VIR_DOMAIN_AFFECT_LIVE']);
  assert.equal(p.THING_EVENT!.kind, 'message', '_msg argument means a one-way message');
  assert.equal(p.THING_EVENT!.generate, 'none');
  assert.equal(p.DOWNLOAD!.stream, 'read');
  assert.equal(p.DOWNLOAD!.sparseFlag, 'TEST_SPARSE');
  assert.equal(p.DOWNLOAD!.readonly, false);
  assert.equal(p.UPLOAD!.stream, 'write');
  assert.equal(p.UPLOAD!.readonly, true, '@readonly overrides the acl');
  assert.equal(p.COUNT!.kind, 'message');
  assert.equal(p.COUNT!.readonly, true, 'search_ permissions are reads');
  const w = new XdrWriter();
  p.COUNT!.args.encode(w, 0xffffffff);
  assert.deepEqual(w.bytes(), hex('ffffffff'));
  assert.equal((m.TestProcedure as Record<string, number>).UPLOAD, 7);
  assert.equal(m.testProgram.prog, 0x31234567);
  assert.equal(m.testProgram.vers, 1);
  assert.equal(m.testProgram.name, 'TEST_PROGRAM');
  assert.equal(m.testProgram.procedures.get(3), p.GET_EVERYTHING);
  assert.equal(m.testProgram.procedures.size, 8);
});

test('compile errors point at file:line:col', () => {
  assert.match(compileError('struct a {\n  foo x;\n};'), /^test\.x:2:3: unknown type 'foo'$/m);
  assert.match(compileError('const A = 1;\nconst A = 2;'), /^test\.x:2:1: duplicate name 'A'$/m);
  assert.match(compileError('struct a { int x };'), /^test\.x:1:18: expected ';', found '}'$/m);
  assert.match(compileError('struct a { int x; };\nstruct a { int y; };'), /test\.x:2:1: duplicate type name 'a'/);
  assert.match(compileError('typedef string s;'), /test\.x:1:9: string needs a bound/);
  assert.match(compileError('struct a { int x<N>; };'), /test\.x:1:18: unknown constant 'N'/);
  assert.match(compileError('const A = 0x;'), /test\.x:1:11: malformed number/);
  assert.match(compileError('struct a { int x; }; /* open'), /test\.x:1:22: unterminated comment/);
  const ann = compileError(
    'struct s { int x; };\nprogram P_PROGRAM { version V { /**\n * @prority: high\n * @generate: sometimes\n */\n void P_PROC_A(s) = 1; } = 1; } = 9;',
  );
  assert.match(ann, /test\.x:3:4: unknown annotation @prority/);
  assert.match(ann, /test\.x:4:4: @generate must be one of both, client, server, none, got 'sometimes'/);
  assert.match(
    compileError('program P_PROGRAM { version V { void P_PROC_A(void) = 1; void P_PROC_B(void) = 1; } = 1; } = 9;'),
    /procedure number 1 already used by P_PROC_A/,
  );
  assert.match(compileError('union u switch (int t) { case 1: void; case 1: int x; };'), /duplicate case 1/);
  assert.match(compileError('struct a { int b_c; int bC; };'), /clashes with 'b_c'/);
  assert.match(compileError('struct a { int x; };\nstruct A { int y; };'), /TypeScript name 'A', already used at line 1/);
});

test('files compile in order and import what they use from earlier ones', () => {
  const [base, user] = compile(
    [
      { source: 'a.x', output: '/p/src/rpc/gen/a.ts', text: 'const LEN = 4;\ntypedef string name_t<LEN>;\nstruct handle { name_t name; };\nenum e { E_ONE = 1 };' },
      {
        source: 'b.x',
        output: '/p/src/protocol/gen/b.ts',
        text: 'struct b_args { handle h; name_t n; e kind; int xs<LEN>; };\nunion u switch (e k) { case E_ONE: void; };',
      },
    ],
    { xdrModule: '/p/src/xdr/index.ts', programModule: '/p/src/rpc/program.ts' },
  );
  assert.match(base!.code, /^\/\/ Generated by scripts\/gen\.ts from a\.x\. Do not edit\.\n/);
  assert.match(user!.code, /^import \{ E, Handle, LEN \} from '\.\.\/\.\.\/rpc\/gen\/a\.js';$/m);
  assert.match(user!.code, /from '\.\.\/\.\.\/xdr\/index\.js';/);
  assert.match(user!.code, /r\.string\(LEN\)/, 'plain typedefs are inlined');
  assert.match(user!.code, /Handle\.decode\(r\)/);
  assert.throws(
    () => compile([{ source: 'c.x', output: 'c.ts', text: 'struct c { handle h; };' }], { xdrModule: 'x.ts', programModule: 'p.ts' }),
    /c\.x:1:12: unknown type 'handle'/,
  );
});

test('output is deterministic', async () => {
  const { readFileSync } = await import('node:fs');
  const { FIXTURE_PATH } = await import('./fixture.js');
  const text = readFileSync(FIXTURE_PATH, 'utf8');
  assert.equal(compileSource(text), compileSource(text));
});

test('helpers: prefix stripping and module specifiers', () => {
  assert.deepEqual(stripCommonPrefix(['VIR_ERR_OK', 'VIR_ERR_NO_DOMAIN']), ['OK', 'NO_DOMAIN']);
  assert.deepEqual(stripCommonPrefix(['REMOTE_AUTH_NONE', 'REMOTE_AUTH_SASL', 'REMOTE_AUTH_POLKIT']), ['NONE', 'SASL', 'POLKIT']);
  assert.deepEqual(stripCommonPrefix(['A_B_1', 'A_B_2']), ['B_1', 'B_2']);
  assert.deepEqual(stripCommonPrefix(['X_PROC_DOMAIN_A', 'X_PROC_DOMAIN_B'], 'X_PROC_'), ['DOMAIN_A', 'DOMAIN_B']);
  assert.equal(moduleSpecifier('src/protocol/gen/qemu.ts', 'src/protocol/gen/remote.ts'), './remote.js');
  assert.equal(moduleSpecifier('src/rpc/gen/virnet.ts', 'src/xdr/index.ts'), '../../xdr/index.js');
});
