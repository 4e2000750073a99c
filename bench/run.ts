// `npm run bench`: every benchmark, printed as tables. Section order follows the layers.
import { benchXdr } from './xdr.js';
import { benchRoundTrip } from './rpc.js';
import { benchDaemon } from './daemon.js';
import { benchClient } from './client.js';
import { benchQemu } from './qemu.js';

const sections: Array<[string, () => string | Promise<string>]> = [
  ['xdr', benchXdr],
  ['rpc', () => benchRoundTrip()],
  ['daemon', () => benchDaemon()],
  ['client', benchClient],
  ['qemu', benchQemu],
];

const only = process.argv.slice(2);
for (const [name, run] of sections) {
  if (only.length && !only.includes(name)) continue;
  console.log(await run());
  console.log();
}
