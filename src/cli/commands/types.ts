// A command's implementation: prints through ctl, throws CliError (or a libvirt error) on failure.
import type { Ctl, Opts } from '../ctl.js';

export type Handler = (ctl: Ctl, o: Opts) => Promise<void>;
export type CommandTable = Record<string, Handler>;
