// Child process for the round-trip benchmark: either our RPC server answering CONNECT_GET_TYPE,
// or the floor, a raw socket that answers each fixed-size request with a fixed-size reply.
import { createServer } from 'node:net';
import { handle, RpcServer } from '../src/rpc/index.js';
import { RemoteProcedures, remoteProgram } from '../src/protocol/gen/remote.js';
import { listenUnix } from '../src/transport/index.js';

export const REQ_BYTES = 28; // CONNECT_GET_TYPE call: header only
export const REPLY_BYTES = 36; // header + string "TEST"

const [mode, path] = process.argv.slice(2);

if (mode === 'floor') {
  const reply = new Uint8Array(REPLY_BYTES);
  const srv = createServer((sock) => {
    let have = 0;
    sock.on('data', (c) => {
      have += c.length;
      while (have >= REQ_BYTES) {
        have -= REQ_BYTES;
        sock.write(reply);
      }
    });
    sock.on('error', () => {});
  });
  srv.listen(path!, () => console.log('ready'));
} else if (mode === 'rpc') {
  const server = new RpcServer();
  server.register(remoteProgram, new Map([handle(RemoteProcedures.CONNECT_GET_TYPE, () => ({ type: 'TEST' }))]));
  await listenUnix(path!, {}, (sock, peer) => server.addClient(sock, peer));
  console.log('ready');
}
