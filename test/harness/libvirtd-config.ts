// Text of the private libvirtd's configuration and of the script that starts it in its own mount namespace.

export interface DaemonConfigInput {
  /** Directory for libvirt-sock, libvirt-sock-ro and libvirt-admin-sock; must be reachable from the host. */
  readonly sockDir: string;
  /** TCP port on 127.0.0.1, or undefined for no TCP listener. */
  readonly tcpPort: number | undefined;
  /** TLS listener on 127.0.0.1 with these files (auth none, client certificates checked). */
  readonly tls?: { readonly port: number; readonly caFile: string; readonly certFile: string; readonly keyFile: string };
  /** More libvirtd.conf lines, appended verbatim. */
  readonly extraConfig?: readonly string[];
}

/** libvirtd.conf: no auth anywhere, TCP on loopback only, sockets outside the namespace-private dirs. */
export function libvirtdConf(c: DaemonConfigInput): string {
  const lines = [
    `unix_sock_dir = "${c.sockDir}"`,
    'auth_unix_rw = "none"',
    'auth_unix_ro = "none"',
  ];
  if (c.tls !== undefined) {
    lines.push('listen_tls = 1', `tls_port = "${c.tls.port}"`, 'auth_tls = "none"', `ca_file = "${c.tls.caFile}"`,
      `cert_file = "${c.tls.certFile}"`, `key_file = "${c.tls.keyFile}"`);
  } else {
    lines.push('listen_tls = 0');
  }
  if (c.tcpPort !== undefined) {
    lines.push('listen_tcp = 1', `tcp_port = "${c.tcpPort}"`, 'auth_tcp = "none"');
  } else {
    lines.push('listen_tcp = 0');
  }
  if (c.tcpPort !== undefined || c.tls !== undefined) lines.push('listen_addr = "127.0.0.1"');
  lines.push(...(c.extraConfig ?? []));
  return lines.join('\n') + '\n';
}

/**
 * Lines appended to the private qemu.conf. virtlogd is not running, so QEMU output goes to plain files;
 * no security driver, so the result does not depend on whether the host has AppArmor/SELinux enabled.
 */
export const QEMU_CONF_EXTRA = '\n# tsvirt test harness\nstdio_handler = "file"\nsecurity_driver = "none"\nuser = "root"\ngroup = "root"\n';

/** Directories that would collide between daemons (pid files, driver state), each replaced by a private tmpfs. */
export const PRIVATE_DIRS = ['/run/libvirt', '/var/lib/libvirt', '/var/cache/libvirt', '/var/log/libvirt'] as const;

/**
 * Run as `unshare -m bash -c NS_SCRIPT bash ETC_COPY CONF PIDFILE IDLE_SECS LISTEN LIBVIRTD`.
 * Every step execs, so the pid node spawned ends up being libvirtd itself. setpriv's parent-death
 * signal kills the daemon if the test process dies without calling stop().
 */
export const NS_SCRIPT = `set -euo pipefail
etc=$1 conf=$2 pidfile=$3 idle=$4 listen=$5 daemon=$6
for d in ${PRIVATE_DIRS.join(' ')}; do
  mkdir -p "$d"
  mount -t tmpfs -o mode=0755 tsvirt-libvirtd "$d"
done
mount --bind "$etc" /etc/libvirt
args=(-f "$conf" --pid-file "$pidfile" --timeout "$idle")
if [ "$listen" = 1 ]; then args=(--listen "\${args[@]}"); fi
exec setpriv --pdeathsig KILL "$daemon" "\${args[@]}"
`;
