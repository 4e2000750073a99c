// virTypedParamsValidate as the test driver's setters use it: every parameter must be a known
// field of the expected type (errors reported from libvirt's util code, domain NONE).
import type { RemoteTypedParam } from '../../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';

export const TYPE_NAMES = ['', 'int', 'uint', 'llong', 'ullong', 'double', 'boolean', 'string'];
export const ParamType = { INT: 1, UINT: 2, LLONG: 3, ULLONG: 4, DOUBLE: 5, BOOLEAN: 6, STRING: 7 } as const;

/** `allowed` maps each field name to its VIR_TYPED_PARAM_* type. */
export function validateParams(params: RemoteTypedParam[], allowed: Record<string, number>): void {
  for (const p of params) {
    const want = allowed[p.field];
    if (want === undefined) {
      throw VirError.format(VirErrorNumber.ARGUMENT_UNSUPPORTED, VirErrorDomain.NONE, 'argument unsupported: %s', `parameter '${p.field}' not supported`);
    }
    if (p.value.type !== want) {
      const got = TYPE_NAMES[p.value.type] ?? String(p.value.type);
      throw VirError.format(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, 'invalid argument: %s', `invalid type '${got}' for parameter '${p.field}', expected '${TYPE_NAMES[want]}'`);
    }
  }
}
