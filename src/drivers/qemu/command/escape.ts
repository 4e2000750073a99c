// Quoting for QEMU's "key=value,key=value" option syntax: a comma inside a value is doubled.

export const qemuOptValue = (v: string): string => v.replaceAll(',', ',,');

/** A "-device"/"-blockdev"/"-object" argument in the JSON form libvirt passes to QEMU >= 6.0. */
export const jsonArg = (props: Record<string, unknown>): string => JSON.stringify(props);
