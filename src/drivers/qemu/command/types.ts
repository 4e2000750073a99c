// Inputs and outputs of the domain-definition -> QEMU argv builder.

/** Facts about the host and the domain's runtime that the command line depends on. */
export interface QemuHostFacts {
  /** The emulator to run; the definition's <emulator> must name the same binary when present. */
  readonly binary: string;
  /** QEMU version as major*1_000_000 + minor*1_000 + micro, like libvirt's. */
  readonly version: number;
  /** Whether /dev/kvm can be opened: type='kvm' needs it, type='qemu' runs under TCG either way. */
  readonly kvmUsable: boolean;
  /** Machine type aliases (e.g. "pc") to the concrete type they stand for (from query-machines). */
  readonly machineAliases: ReadonlyMap<string, string>;
  /** Path of the QMP monitor socket QEMU listens on. */
  readonly monitorPath: string;
  /** VNC port chosen for an autoport display (libvirt picks the first free one from 5900). */
  readonly vncPort?: number;
  /** `-incoming` value for a start that loads a saved state ("defer": migrate-incoming follows). */
  readonly incoming?: string;
}

/** What the argv builder hands to the process starter. */
export interface QemuCommand {
  /** Full argv, argv[0] being the emulator. */
  readonly argv: string[];
}
