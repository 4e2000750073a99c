// A secret: its wire handle (UUID and usage) and the secret APIs.
import { uuidToString, type ApiCore, type CallOptions } from './core.js';
import type { RemoteNonnullSecret } from '../protocol/gen/remote.js';

export class Secret {
  constructor(
    private readonly core: ApiCore,
    private readonly h: RemoteNonnullSecret,
  ) {}

  get handle(): RemoteNonnullSecret {
    return { ...this.h };
  }
  get uuid(): string {
    return uuidToString(this.h.uuid);
  }
  /** VIR_SECRET_USAGE_TYPE_* */
  get usageType(): number {
    return this.h.usageType;
  }
  get usageID(): string {
    return this.h.usageID;
  }

  async xmlDesc(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('SECRET_GET_XML_DESC', { secret: this.h, flags }, o)).xml;
  }

  async value(flags = 0, o?: CallOptions): Promise<Uint8Array> {
    return (await this.core.call('SECRET_GET_VALUE', { secret: this.h, flags }, o)).value;
  }

  async setValue(value: Uint8Array, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('SECRET_SET_VALUE', { secret: this.h, value, flags }, o);
  }

  async undefine(o?: CallOptions): Promise<void> {
    await this.core.call('SECRET_UNDEFINE', { secret: this.h }, o);
  }
}
