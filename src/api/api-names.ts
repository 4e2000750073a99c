/**
 * The libvirt C API behind each remote procedure, and the error domain libvirt reports its
 * generic failures in. libvirt's messages name the API ("read only access prevents
 * virDomainSuspend", "not supported by the connection driver: virDomainOpenConsole"), and the
 * domain is the one of the C file the API lives in (libvirt-domain.c reports VIR_FROM_DOMAIN).
 */
import { VirErrorDomain } from '../rpc/errors.js';

/** Words libvirt spells in capitals inside API names. */
const ACRONYMS = new Set(['XML', 'UUID', 'URI', 'ID', 'CPU', 'MAC', 'NMI', 'SCSI', 'WWN', 'SEV', 'FD', 'PM', 'IO', 'FS', 'SSH', 'DHCP']);

/** Procedures whose API name the word rule does not produce. */
const EXCEPTIONS: Record<string, string> = {
  DOMAIN_FSTRIM: 'virDomainFSTrim',
  DOMAIN_FSFREEZE: 'virDomainFSFreeze',
  DOMAIN_FSTHAW: 'virDomainFSThaw',
  DOMAIN_GET_FSINFO: 'virDomainGetFSInfo',
  DOMAIN_GET_IOTHREAD_INFO: 'virDomainGetIOThreadInfo',
  DOMAIN_PIN_IOTHREAD: 'virDomainPinIOThread',
  DOMAIN_ADD_IOTHREAD: 'virDomainAddIOThread',
  DOMAIN_DEL_IOTHREAD: 'virDomainDelIOThread',
  DOMAIN_SET_IOTHREAD_PARAMS: 'virDomainSetIOThreadParams',
  DOMAIN_GET_VCPUS: 'virDomainGetVcpus',
  NODE_DEVICE_DETTACH: 'virNodeDeviceDettach',
  DOMAIN_OPEN_GRAPHICS_FD: 'virDomainOpenGraphicsFD',
  CONNECT_IS_SECURE: 'virConnectIsSecure',
  NODE_GET_SEV_INFO: 'virNodeGetSEVInfo',
  DOMAIN_GET_LAUNCH_SECURITY_INFO: 'virDomainGetLaunchSecurityInfo',
};

/** `DOMAIN_GET_XML_DESC` -> `virDomainGetXMLDesc`. */
export function apiName(proc: string): string {
  const known = EXCEPTIONS[proc];
  if (known) return known;
  return (
    'vir' +
    proc
      .split('_')
      .map((w) => (ACRONYMS.has(w) ? w : w[0] + w.slice(1).toLowerCase()))
      .join('')
  );
}

/** The error domain of the C file implementing the procedure's API. */
export function apiErrorDomain(proc: string): VirErrorDomain {
  const families: Array<[RegExp, VirErrorDomain]> = [
    [/^DOMAIN_SNAPSHOT_|_SNAPSHOT(S)?(_|$)|REVERT_TO_SNAPSHOT/, VirErrorDomain.DOMAIN_SNAPSHOT],
    [/^DOMAIN_CHECKPOINT_|_CHECKPOINTS?(_|$)/, VirErrorDomain.DOMAIN_CHECKPOINT],
    [/^NETWORK_PORT_|_NETWORK_PORTS?(_|$)/, VirErrorDomain.NETWORK],
    [/^NWFILTER_BINDING|_NWFILTER_BINDINGS?(_|$)/, VirErrorDomain.NWFILTER],
    [/^DOMAIN_|_DOMAINS?(_|$)|_DOMAIN_/, VirErrorDomain.DOMAIN],
    [/^NETWORK_|_NETWORKS?(_|$)/, VirErrorDomain.NETWORK],
    [/^STORAGE_|_STORAGE_/, VirErrorDomain.STORAGE],
    [/^INTERFACE_|_INTERFACES?(_|$)/, VirErrorDomain.INTERFACE],
    [/^NODE_DEVICE_|_NODE_DEVICES?(_|$)/, VirErrorDomain.NODEDEV],
    [/^NWFILTER_|_NWFILTERS?(_|$)/, VirErrorDomain.NWFILTER],
    [/^SECRET_|_SECRETS?(_|$)/, VirErrorDomain.SECRET],
  ];
  for (const [re, dom] of families) if (re.test(proc)) return dom;
  return VirErrorDomain.NONE;
}
