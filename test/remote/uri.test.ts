// resolveUri against libvirt 9.0: every expectation below was observed with Debian's virsh
// (LIBVIRT_DEBUG=1 "proceeding with name", "Chosen UNIX sockname", error texts, and a fake `ssh`
// logging its argv). uri-live.test.ts re-checks a sample against the installed virsh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveUri, type RemoteTarget, type ResolveOptions } from '../../src/drivers/remote/uri.js';
import { VirError, VirErrorNumber } from '../../src/rpc/errors.js';

const ROOT: ResolveOptions = { uid: 0, env: {}, configFile: null, exists: () => false };
const NOBODY: ResolveOptions = { uid: 65534, env: { XDG_RUNTIME_DIR: '/tmp/nb/run', HOME: '/tmp/nb' }, configFile: null, exists: () => false };

const HELPER = (uri: string, sock = '/var/run/libvirt/libvirt-sock', ro = false) =>
  `sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     virt-ssh-helper${ro ? ' -r ' : ' '}'${uri}'; else    ` +
  `if 'nc' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;'nc' $ARG -U ${sock}; fi'`;
const NETCAT = (sock: string, nc = 'nc') =>
  `sh -c 'if '${nc}' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;'${nc}' $ARG -U ${sock}'`;

type Row = [uri: string | null, expect: Partial<RemoteTarget>, opts?: ResolveOptions];

const OK: Row[] = [
  ['qemu:///system', { transport: 'unix', name: 'qemu:///system', socketPath: '/var/run/libvirt/libvirt-sock', mode: 'legacy' }],
  ['qemu:///system?mode=direct', { transport: 'unix', name: 'qemu:///system', socketPath: '/var/run/libvirt/virtqemud-sock', mode: 'direct' }],
  ['qemu:///session', { transport: 'unix', name: 'qemu:///session', socketPath: '/var/run/libvirt/libvirt-sock' }],
  ['qemu+unix:///system?mode=legacy', { transport: 'unix', name: 'qemu:///system', socketPath: '/var/run/libvirt/libvirt-sock' }],
  ['qemu+unix:///system', { socketPath: '/var/run/libvirt/libvirt-sock-ro', readonly: true }, { ...ROOT, readonly: true }],
  ['test+unix:///default', { transport: 'unix', name: 'test:///default', socketPath: '/var/run/libvirt/libvirt-sock' }],
  ['lxc:///', { transport: 'unix', name: 'lxc:///' }],
  ['remote:///', { transport: 'unix', name: '', socketPath: '/var/run/libvirt/libvirt-sock' }],
  ['remote+unix:///?socket=/x', { transport: 'unix', name: '', socketPath: '/x' }],
  [null, { transport: 'unix', name: '', socketPath: '/var/run/libvirt/libvirt-sock', probeUri: true, displayUri: '' }],
  ['', { transport: 'unix', name: '', probeUri: true }],
  ['test+tcp://127.0.0.1:1/default?foo=a/b&bar=x%20y;z=1&no_verify=1&AUTH=sasl',
    { transport: 'tcp', host: '127.0.0.1', port: 1, name: 'test:///default?foo=a%2Fb&bar=x%20y%3Bz%3D1', noVerify: true, auth: 'sasl' }],
  ['test+tcp://127.0.0.1:1/default?a=1;b=2&c=3', { name: 'test:///default?a=1%3Bb%3D2&c=3' }],
  ['test+tcp://127.0.0.1:1/default?a=1;b=2', { name: 'test:///default?a=1&b=2' }],
  ['test+tcp://127.0.0.1:1/def%20ault?x', { name: 'test:///def%20ault?x=' }],
  ['test+tcp://127.0.0.1:1/default?x=&=y&&q=%41', { name: 'test:///default?x=&q=A' }],
  ['test+tcp://u@127.0.0.1:1', { name: 'test://', user: 'u', host: '127.0.0.1' }],
  ['test+tcp://u:p@127.0.0.1:1', { name: 'test://', user: 'u:p' }],
  ['test+tcp://127.0.0.1:1/default?name=foo:///bar', { name: 'foo:///bar' }],
  ['Test+TCP://127.0.0.1:1/x?Socket=/y&NAME=n', { transport: 'tcp', name: 'n' }],
  ['qemu+TCP://127.0.0.1:1/system', { transport: 'tcp', name: 'qemu:///system' }],
  ["test+tcp://127.0.0.1:1/a:b@c;d,e~f(g)*h?q=-_.~!*'()%2B+@:/?",
    { name: 'test:///a%3Ab@c;d,e~f(g)*h?q=-_.~%21%2A%27%28%29%2B%2B%40%3A%2F%3F' }],
  ['test+tcp://127.0.0.1:1/a%3a%7e%2f?q=%3d', { name: 'test:///a%3A~/?q=%3D' }],
  ['test+tcp://127.0.0.1:1/x#a/b?c%20d', { name: 'test:///x#a/b?c%20d' }],
  ['test+tcp://[::1]:1/x', { host: '::1', port: 1, name: 'test:///x' }],
  ['test+tcp://a%41b:1/x', { host: 'aAb' }],
  ['qemu+tcp:///system', { transport: 'tcp', host: 'localhost', port: 16509 }],
  ['qemu://host/system', { transport: 'tls', host: 'host', port: 16514, name: 'qemu:///system' }],
  ['qemu+tls:///system?pkipath=/p&no_verify=0', { transport: 'tls', host: 'localhost', port: 16514, pkipath: '/p', noVerify: false }],
  ['qemu+ext:///system?command=/bin/false', { transport: 'ext', command: ['/bin/false'], name: 'qemu:///system' }],
  ['qemu+ssh://host/system', { transport: 'ssh', host: 'host', socketPath: '/var/run/libvirt/libvirt-sock',
    command: ['ssh', '-T', '-e', 'none', '--', 'host', HELPER('qemu:///system')] }],
  ['qemu+ssh://bob@host:2222/system?keyfile=/k/id&no_tty=1&no_verify=1', { user: 'bob', port: 2222, keyfile: '/k/id', noTty: true,
    command: ['ssh', '-p', '2222', '-l', 'bob', '-i', '/k/id', '-T', '-e', 'none', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
      '--', 'host', HELPER('qemu:///system')] }],
  ['qemu+ssh://host/system?socket=/tmp/x.sock', { socketPath: '/tmp/x.sock', command: ['ssh', '-T', '-e', 'none', '--', 'host', NETCAT('/tmp/x.sock')] }],
  ['qemu+ssh://host/session', { command: ['ssh', '-T', '-e', 'none', '--', 'host', HELPER('qemu:///session')] }],
  ['test+ssh://host/default?proxy=netcat', { command: ['ssh', '-T', '-e', 'none', '--', 'host', NETCAT('/var/run/libvirt/libvirt-sock')] }],
  ['qemu+ssh://host/system?proxy=native&foo=a%20b',
    { name: 'qemu:///system?foo=a%20b', command: ['ssh', '-T', '-e', 'none', '--', 'host', "sh -c 'virt-ssh-helper '''\\''qemu:///system?foo=a%20b'\\'''''"] }],
  ['qemu+ssh://host/system?known_hosts=/kh&sshauth=agent', { knownHosts: '/kh', sshauth: 'agent',
    command: ['ssh', '-T', '-e', 'none', '-o', 'UserKnownHostsFile=/kh', '--', 'host', HELPER('qemu:///system')] }],
  ['qemu+ssh://host/system', { command: ['ssh', '-T', '-e', 'none', '--', 'host', HELPER('qemu:///system', '/var/run/libvirt/libvirt-sock-ro', true)] },
    { ...ROOT, readonly: true }],
  ['qemu+ssh://host/system?proxy=native&socket=/x', { command: ['ssh', '-T', '-e', 'none', '--', 'host', "sh -c 'virt-ssh-helper 'qemu:///system''"] }],
  ['qemu+ssh://host/system?mode=legacy&netcat=nc2', { command: ['ssh', '-T', '-e', 'none', '--', 'host', NETCAT('/var/run/libvirt/libvirt-sock', 'nc2')] }],
  ['qemu+ssh://host?x=1', { name: 'qemu://?x=1', command: ['ssh', '-T', '-e', 'none', '--', 'host', HELPER("''\\''qemu://?x=1'\\'''")] }],
  ['qemu+ssh://host/system?command=/tmp/fakessh/ssh&name=qemu:///foo',
    { name: 'qemu:///foo', command: ['/tmp/fakessh/ssh', '-T', '-e', 'none', '--', 'host', HELPER('qemu:///foo')] }],
  ['remote+ssh://host/', { name: '', command: ['ssh', '-T', '-e', 'none', '--', 'host', HELPER("''\\'''\\'''")] }],
  ['qemu+ssh://[::1]:99/system#frag', { host: '::1', port: 99,
    command: ['ssh', '-p', '99', '-T', '-e', 'none', '--', '::1', HELPER("''\\''qemu:///system#frag'\\'''")] }],
  ['xen+ssh://h/', { name: 'xen:///', host: 'h' }],
  // Non-root: /session and test+X URIs go to the per-user daemon under $XDG_RUNTIME_DIR, never "-ro".
  ['qemu:///session', { socketPath: '/tmp/nb/run/libvirt/libvirt-sock' }, NOBODY],
  ['test+unix:///default', { socketPath: '/tmp/nb/run/libvirt/libvirt-sock' }, NOBODY],
  ['qemu:///system', { socketPath: '/var/run/libvirt/libvirt-sock' }, NOBODY],
  ['qemu:///system?mode=direct', { socketPath: '/var/run/libvirt/virtqemud-sock' }, NOBODY],
  ['qemu:///session?mode=direct', { socketPath: '/tmp/nb/run/libvirt/virtqemud-sock' }, NOBODY],
  ['qemu:///system', { socketPath: '/var/run/libvirt/libvirt-sock-ro' }, { ...NOBODY, readonly: true }],
  ['qemu:///session', { socketPath: '/tmp/nb/run/libvirt/libvirt-sock' }, { ...NOBODY, readonly: true }],
  [null, { socketPath: '/tmp/nb/run/libvirt/libvirt-sock', name: '' }, NOBODY],
  ['qemu:///session', { socketPath: '/tmp/nb/.cache/libvirt/libvirt-sock' }, { ...NOBODY, env: { HOME: '/tmp/nb' } }],
  // A per-user URI over ssh uses virt-ssh-helper alone (the remote socket path is unknowable here).
  ['qemu+ssh://h/session', { command: ['ssh', '-T', '-e', 'none', '--', 'h', "sh -c 'virt-ssh-helper 'qemu:///session''"] }, NOBODY],
  // auto mode: the per-driver socket when it exists, else libvirt-sock when it exists.
  ['qemu:///system', { socketPath: '/var/run/libvirt/virtqemud-sock', mode: 'direct' },
    { ...ROOT, exists: (p) => p === '/var/run/libvirt/virtqemud-sock' }],
  ['qemu:///system', { socketPath: '/var/run/libvirt/libvirt-sock-ro', mode: 'legacy' },
    { ...ROOT, readonly: true, exists: (p) => p === '/var/run/libvirt/libvirt-sock-ro' }],
  ['qemu+ssh://h/system', { socketPath: '/var/run/libvirt/libvirt-sock' }, { ...ROOT, exists: () => true }],
  // Environment and configuration.
  [null, { displayUri: 'test:///default', name: 'test:///default', probeUri: false }, { ...ROOT, env: { LIBVIRT_DEFAULT_URI: 'test:///default' } }],
];

for (const [uri, expect, opts] of OK) {
  test(`resolveUri(${JSON.stringify(uri)}${opts?.uid ? ' as non-root' : ''}${opts?.readonly ? ' read-only' : ''})`, () => {
    const t = resolveUri(uri, opts ?? ROOT);
    const got = Object.fromEntries(Object.keys(expect).map((k) => [k, t[k as keyof RemoteTarget]]));
    assert.deepEqual(got, expect);
  });
}

const BAD: Array<[uri: string, code: VirErrorNumber, message: string, opts?: ResolveOptions]> = [
  ['qemu+foo://h/system', VirErrorNumber.INVALID_ARG,
    'invalid argument: remote_open: transport in URL not recognised (should be tls|unix|ssh|ext|tcp|libssh2|libssh)'],
  ['qemu+unix://h/system', VirErrorNumber.INVALID_ARG, "invalid argument: using unix socket and remote server 'h' is not supported."],
  ['qemu://system', VirErrorNumber.INTERNAL_ERROR, 'internal error: invalid URI qemu://system (maybe you want qemu:///system)'],
  ['qemu+ext:///system', VirErrorNumber.INVALID_ARG, "invalid argument: remote_open: for 'ext' transport, command is required"],
  ['qemu+ssh://host/system?mode=direct&proxy=native', VirErrorNumber.OPERATION_UNSUPPORTED,
    'Operation not supported: Cannot use direct socket mode for ssh transport'],
  ['qemu+ssh://host/system?netcat=nc2&proxy=native', VirErrorNumber.INVALID_ARG, 'invalid argument: netcat path not valid with native proxy mode'],
  ['qemu+ssh://host/system?proxy=bogus', VirErrorNumber.INVALID_ARG, "invalid argument: Unnkown proxy type 'bogus'"],
  ['qemu+ssh://host/system?mode=bogus', VirErrorNumber.INVALID_ARG, "invalid argument: Unknown remote mode 'bogus'"],
  ['qemu+ssh://host/system?no_tty=yes', VirErrorNumber.INVALID_ARG, 'invalid argument: Failed to parse value of URI component no_tty'],
  ['test+tcp://127.0.0.1:1/x?no_verify=', VirErrorNumber.INVALID_ARG, 'invalid argument: Failed to parse value of URI component no_verify'],
  ['foo', VirErrorNumber.NO_CONNECT, "no connection driver available for URI 'foo' does not include a driver name"],
  ['qemu+ssh://host/system?netcat=/usr/bin/my nc', VirErrorNumber.INTERNAL_ERROR,
    'internal error: Unable to parse URI qemu+ssh://host/system?netcat=/usr/bin/my nc'],
  ['test+tcp://127.0.0.1:/x', VirErrorNumber.INTERNAL_ERROR, 'internal error: Unable to parse URI test+tcp://127.0.0.1:/x'],
  ['test+tcp://127.0.0.1:99999999999/x', VirErrorNumber.INTERNAL_ERROR, 'internal error: Unable to parse URI test+tcp://127.0.0.1:99999999999/x'],
  ['test+tcp://[::1/x', VirErrorNumber.INTERNAL_ERROR, 'internal error: Unable to parse URI test+tcp://[::1/x'],
  ['test+tcp://h h/x', VirErrorNumber.INTERNAL_ERROR, 'internal error: Unable to parse URI test+tcp://h h/x'],
  ['test+tcp://h/é', VirErrorNumber.INTERNAL_ERROR, 'internal error: Unable to parse URI test+tcp://h/é'],
  ['test+tcp://h/%zz', VirErrorNumber.INTERNAL_ERROR, 'internal error: Unable to parse URI test+tcp://h/%zz'],
];

for (const [uri, code, message, opts] of BAD) {
  test(`resolveUri(${JSON.stringify(uri)}) fails like libvirt`, () => {
    assert.throws(() => resolveUri(uri, opts ?? ROOT), (e: unknown) => {
      assert.ok(e instanceof VirError);
      assert.equal(e.message, message);
      assert.equal(e.code, code);
      return true;
    });
  });
}
