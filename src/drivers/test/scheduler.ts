// The test driver's scheduler: a "fair" scheduler with one parameter, weight, fixed at 50.
// libvirt 9.0's test driver validates new values but never stores them, and its *_FLAGS getter
// accepts no flags at all: the public API always adds VIR_TYPED_PARAM_STRING_OKAY (4), so that
// call fails for every caller. virsh avoids it by using the flag-less calls when it can.
import type { DriverMethods } from '../../api/driver.js';
import type { RemoteTypedParam } from '../../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import type { DomainStore } from './domains.js';
import { checkFlags } from './errors.js';

const TYPED_PARAM_STRING_OKAY = 4;
const TYPED_PARAM_UINT = 2;
const TYPE_NAMES = ['', 'int', 'uint', 'llong', 'ullong', 'double', 'boolean', 'string'];

const weight = (): RemoteTypedParam[] => [{ field: 'weight', value: { type: TYPED_PARAM_UINT, ui: 50 } }];

/** virTypedParamsValidate(params, "weight", UINT): reported from libvirt's util code (domain NONE). */
function validate(params: RemoteTypedParam[]): void {
  for (const p of params) {
    if (p.field !== 'weight') {
      throw VirError.format(VirErrorNumber.ARGUMENT_UNSUPPORTED, VirErrorDomain.NONE, 'argument unsupported: %s', `parameter '${p.field}' not supported`);
    }
    if (p.value.type !== TYPED_PARAM_UINT) {
      const got = TYPE_NAMES[p.value.type] ?? String(p.value.type);
      throw VirError.format(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, 'invalid argument: %s', `invalid type '${got}' for parameter '${p.field}', expected 'uint'`);
    }
  }
}

export function schedulerMethods(store: DomainStore): DriverMethods {
  return {
    DOMAIN_GET_SCHEDULER_TYPE: ({ dom }) => {
      store.resolve(dom);
      return { type: 'fair', nparams: 1 };
    },
    DOMAIN_GET_SCHEDULER_PARAMETERS: ({ dom }) => {
      store.resolve(dom);
      return { params: weight() };
    },
    DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS: ({ dom, flags }) => {
      checkFlags('testDomainGetSchedulerParametersFlags', flags | TYPED_PARAM_STRING_OKAY, 0);
      store.resolve(dom);
      return { params: weight() };
    },
    DOMAIN_SET_SCHEDULER_PARAMETERS: ({ dom, params }) => {
      validate(params);
      store.resolve(dom);
    },
    DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS: ({ dom, params, flags }) => {
      checkFlags('testDomainSetSchedulerParametersFlags', flags, 0);
      validate(params);
      store.resolve(dom);
    },
  };
}
