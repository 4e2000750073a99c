/**
 * Flag sets of the public API, as TypeScript enums named after libvirt's: enum
 * `ConnectListAllDomainsFlags` member `ACTIVE` is VIR_CONNECT_LIST_DOMAINS_ACTIVE, and so on
 * (the prefix is in each enum's comment). Values are libvirt 9.0's; combine members with `|`.
 */

/** VIR_CONNECT_* (virConnectOpen flags). */
export enum ConnectFlags {
  RO = 1,
  NO_ALIASES = 2,
}

/** VIR_CONNECT_LIST_DOMAINS_* */
export enum ConnectListAllDomainsFlags {
  ACTIVE = 1 << 0,
  INACTIVE = 1 << 1,
  PERSISTENT = 1 << 2,
  TRANSIENT = 1 << 3,
  RUNNING = 1 << 4,
  PAUSED = 1 << 5,
  SHUTOFF = 1 << 6,
  OTHER = 1 << 7,
  MANAGEDSAVE = 1 << 8,
  NO_MANAGEDSAVE = 1 << 9,
  AUTOSTART = 1 << 10,
  NO_AUTOSTART = 1 << 11,
  HAS_SNAPSHOT = 1 << 12,
  NO_SNAPSHOT = 1 << 13,
  HAS_CHECKPOINT = 1 << 14,
  NO_CHECKPOINT = 1 << 15,
}

/** VIR_CONNECT_LIST_NETWORKS_* */
export enum ConnectListAllNetworksFlags {
  INACTIVE = 1 << 0,
  ACTIVE = 1 << 1,
  PERSISTENT = 1 << 2,
  TRANSIENT = 1 << 3,
  AUTOSTART = 1 << 4,
  NO_AUTOSTART = 1 << 5,
}

/** VIR_CONNECT_LIST_STORAGE_POOLS_* */
export enum ConnectListAllStoragePoolsFlags {
  INACTIVE = 1 << 0,
  ACTIVE = 1 << 1,
  PERSISTENT = 1 << 2,
  TRANSIENT = 1 << 3,
  AUTOSTART = 1 << 4,
  NO_AUTOSTART = 1 << 5,
  DIR = 1 << 6,
  FS = 1 << 7,
  NETFS = 1 << 8,
  LOGICAL = 1 << 9,
  DISK = 1 << 10,
  ISCSI = 1 << 11,
  SCSI = 1 << 12,
  MPATH = 1 << 13,
  RBD = 1 << 14,
  SHEEPDOG = 1 << 15,
  GLUSTER = 1 << 16,
  ZFS = 1 << 17,
  VSTORAGE = 1 << 18,
  ISCSI_DIRECT = 1 << 19,
}

/** VIR_CONNECT_LIST_INTERFACES_* */
export enum ConnectListAllInterfacesFlags {
  INACTIVE = 1 << 0,
  ACTIVE = 1 << 1,
}

/** VIR_DOMAIN_XML_* */
export enum DomainXMLFlags {
  SECURE = 1 << 0,
  INACTIVE = 1 << 1,
  UPDATE_CPU = 1 << 2,
  MIGRATABLE = 1 << 3,
}

/** VIR_DOMAIN_AFFECT_* (also the base of the MEM_ and VCPU_ sets). */
export enum DomainModificationImpact {
  CURRENT = 0,
  LIVE = 1 << 0,
  CONFIG = 1 << 1,
}

/** VIR_DOMAIN_MEM_* */
export enum DomainMemoryModFlags {
  CURRENT = 0,
  LIVE = 1 << 0,
  CONFIG = 1 << 1,
  MAXIMUM = 1 << 2,
}

/** VIR_DOMAIN_VCPU_* */
export enum DomainVcpuFlags {
  CURRENT = 0,
  LIVE = 1 << 0,
  CONFIG = 1 << 1,
  MAXIMUM = 1 << 2,
  GUEST = 1 << 3,
  HOTPLUGGABLE = 1 << 4,
}

/** VIR_DOMAIN_START_* (create flags). */
export enum DomainCreateFlags {
  PAUSED = 1 << 0,
  AUTODESTROY = 1 << 1,
  BYPASS_CACHE = 1 << 2,
  FORCE_BOOT = 1 << 3,
  VALIDATE = 1 << 4,
  RESET_NVRAM = 1 << 5,
}

/** VIR_DOMAIN_DEFINE_* */
export enum DomainDefineFlags {
  VALIDATE = 1 << 0,
}

/** VIR_DOMAIN_DESTROY_* */
export enum DomainDestroyFlags {
  DEFAULT = 0,
  GRACEFUL = 1 << 0,
  REMOVE_LOGS = 1 << 1,
}

/** VIR_DOMAIN_SHUTDOWN_* (shutdown mode flags). */
export enum DomainShutdownFlags {
  DEFAULT = 0,
  ACPI_POWER_BTN = 1 << 0,
  GUEST_AGENT = 1 << 1,
  INITCTL = 1 << 2,
  SIGNAL = 1 << 3,
  PARAVIRT = 1 << 4,
}

/** VIR_DOMAIN_REBOOT_* */
export enum DomainRebootFlags {
  DEFAULT = 0,
  ACPI_POWER_BTN = 1 << 0,
  GUEST_AGENT = 1 << 1,
  INITCTL = 1 << 2,
  SIGNAL = 1 << 3,
  PARAVIRT = 1 << 4,
}

/** VIR_DOMAIN_UNDEFINE_* */
export enum DomainUndefineFlags {
  MANAGED_SAVE = 1 << 0,
  SNAPSHOTS_METADATA = 1 << 1,
  NVRAM = 1 << 2,
  KEEP_NVRAM = 1 << 3,
  CHECKPOINTS_METADATA = 1 << 4,
  TPM = 1 << 5,
  KEEP_TPM = 1 << 6,
}

/** VIR_DOMAIN_SAVE_* (save, restore and managed save). */
export enum DomainSaveRestoreFlags {
  BYPASS_CACHE = 1 << 0,
  RUNNING = 1 << 1,
  PAUSED = 1 << 2,
  RESET_NVRAM = 1 << 3,
}

/** VIR_DOMAIN_SNAPSHOT_CREATE_* */
export enum DomainSnapshotCreateFlags {
  REDEFINE = 1 << 0,
  CURRENT = 1 << 1,
  NO_METADATA = 1 << 2,
  HALT = 1 << 3,
  DISK_ONLY = 1 << 4,
  REUSE_EXT = 1 << 5,
  QUIESCE = 1 << 6,
  ATOMIC = 1 << 7,
  LIVE = 1 << 8,
  VALIDATE = 1 << 9,
}

/** VIR_DOMAIN_SNAPSHOT_LIST_* */
export enum DomainSnapshotListFlags {
  ROOTS = 1 << 0,
  DESCENDANTS = 1 << 0,
  METADATA = 1 << 1,
  LEAVES = 1 << 2,
  NO_LEAVES = 1 << 3,
  NO_METADATA = 1 << 4,
  INACTIVE = 1 << 5,
  ACTIVE = 1 << 6,
  DISK_ONLY = 1 << 7,
  INTERNAL = 1 << 8,
  EXTERNAL = 1 << 9,
  TOPOLOGICAL = 1 << 10,
}

/** VIR_DOMAIN_SNAPSHOT_REVERT_* */
export enum DomainSnapshotRevertFlags {
  RUNNING = 1 << 0,
  PAUSED = 1 << 1,
  FORCE = 1 << 2,
  RESET_NVRAM = 1 << 3,
}

/** VIR_DOMAIN_SNAPSHOT_DELETE_* */
export enum DomainSnapshotDeleteFlags {
  CHILDREN = 1 << 0,
  METADATA_ONLY = 1 << 1,
  CHILDREN_ONLY = 1 << 2,
}

/** VIR_DOMAIN_SNAPSHOT_XML_* */
export enum DomainSnapshotXMLFlags {
  SECURE = 1 << 0,
}

/** VIR_NETWORK_XML_* */
export enum NetworkXMLFlags {
  INACTIVE = 1 << 0,
}

/** VIR_NETWORK_CREATE_* / VIR_NETWORK_DEFINE_* */
export enum NetworkCreateFlags {
  VALIDATE = 1 << 0,
}
export enum NetworkDefineFlags {
  VALIDATE = 1 << 0,
}

/** VIR_STORAGE_XML_* */
export enum StorageXMLFlags {
  INACTIVE = 1 << 0,
}

/** VIR_STORAGE_POOL_BUILD_* */
export enum StoragePoolBuildFlags {
  NEW = 0,
  REPAIR = 1 << 0,
  RESIZE = 1 << 1,
  NO_OVERWRITE = 1 << 2,
  OVERWRITE = 1 << 3,
}

/** VIR_STORAGE_POOL_CREATE_* */
export enum StoragePoolCreateFlags {
  NORMAL = 0,
  WITH_BUILD = 1 << 0,
  WITH_BUILD_OVERWRITE = 1 << 1,
  WITH_BUILD_NO_OVERWRITE = 1 << 2,
}

/** VIR_STORAGE_POOL_DELETE_* */
export enum StoragePoolDeleteFlags {
  NORMAL = 0,
  ZEROED = 1 << 0,
}

/** VIR_STORAGE_VOL_CREATE_* */
export enum StorageVolCreateFlags {
  PREALLOC_METADATA = 1 << 0,
  REFLINK = 1 << 1,
  VALIDATE = 1 << 2,
}

/** VIR_STORAGE_VOL_DELETE_* */
export enum StorageVolDeleteFlags {
  NORMAL = 0,
  ZEROED = 1 << 0,
  WITH_SNAPSHOTS = 1 << 1,
}

/** VIR_INTERFACE_XML_* */
export enum InterfaceXMLFlags {
  INACTIVE = 1 << 0,
}

/** VIR_DOMAIN_CONSOLE_* */
export enum DomainConsoleFlags {
  FORCE = 1 << 0,
  SAFE = 1 << 1,
}

/** VIR_DOMAIN_CHANNEL_* */
export enum DomainChannelFlags {
  FORCE = 1 << 0,
}

/** VIR_STORAGE_VOL_UPLOAD_* */
export enum StorageVolUploadFlags {
  SPARSE_STREAM = 1 << 0,
}

/** VIR_STORAGE_VOL_DOWNLOAD_* */
export enum StorageVolDownloadFlags {
  SPARSE_STREAM = 1 << 0,
}
