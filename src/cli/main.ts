#!/usr/bin/env node
// tsvirsh: virsh-compatible CLI. Not implemented yet; see the README's status section.
console.error('error: tsvirsh is not implemented yet');
process.exit(1);
