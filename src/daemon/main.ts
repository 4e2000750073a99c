#!/usr/bin/env node
// tsvirtd: the daemon. The protocol core is in place; serving the test driver is the next issue.
console.error('tsvirtd: not implemented yet (the RPC engine exists; the daemon and test driver come next)');
process.exit(1);
