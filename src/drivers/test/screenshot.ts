// DOMAIN_SCREENSHOT: libvirt's test driver answers every domain and screen, running or not,
// with one fixed PNG (screenshot.png beside this module, the bytes libvirtd 9.0 sends).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DriverMethods } from '../../api/driver.js';
import type { DomainStore } from './domains.js';
import { checkFlags, internalError } from './errors.js';

const PNG = fileURLToPath(new URL('./screenshot.png', import.meta.url));
let image: Uint8Array | undefined;

export function screenshotMethods(store: DomainStore): DriverMethods {
  return {
    DOMAIN_SCREENSHOT: ({ dom, flags }, ctx) => {
      checkFlags('testDomainScreenshot', flags, 0);
      store.resolve(dom);
      const stream = ctx.stream;
      if (!stream) throw internalError('screenshot needs a stream');
      image ??= new Uint8Array(readFileSync(PNG));
      // Packets written now are held until the reply is out: data, then end of stream.
      stream.write(image).then(() => stream.end()).catch(() => undefined);
      return { mime: 'image/png' };
    },
  };
}
