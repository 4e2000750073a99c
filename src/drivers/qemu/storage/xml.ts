// Pool and volume XML of a directory pool, in libvirt 9.0's layout for the dir backend.
import { escape as escapeXml } from '../../../api/xml/tree.js';
import type { VolumeFacts } from './volume-files.js';

export interface DirPoolConfig {
  readonly name: string;
  readonly uuid: string;
  readonly path: string;
}

export interface PoolSizes {
  readonly capacity: bigint;
  readonly allocation: bigint;
  readonly available: bigint;
}

export function formatDirPool(p: DirPoolConfig, sizes: PoolSizes): string {
  return [
    `<pool type='dir'>`,
    `  <name>${escapeXml(p.name)}</name>`,
    `  <uuid>${p.uuid}</uuid>`,
    `  <capacity unit='bytes'>${sizes.capacity}</capacity>`,
    `  <allocation unit='bytes'>${sizes.allocation}</allocation>`,
    `  <available unit='bytes'>${sizes.available}</available>`,
    `  <source>`,
    `  </source>`,
    `  <target>`,
    `    <path>${escapeXml(p.path)}</path>`,
    `  </target>`,
    `</pool>`,
    '',
  ].join('\n');
}

export function formatDirVolume(name: string, path: string, f: VolumeFacts): string {
  return [
    `<volume type='file'>`,
    `  <name>${escapeXml(name)}</name>`,
    `  <key>${escapeXml(path)}</key>`,
    `  <capacity unit='bytes'>${f.capacity}</capacity>`,
    `  <allocation unit='bytes'>${f.allocation}</allocation>`,
    `  <physical unit='bytes'>${f.physical}</physical>`,
    `  <target>`,
    `    <path>${escapeXml(path)}</path>`,
    `    <format type='${f.format}'/>`,
    `    <permissions>`,
    `      <mode>${f.mode.toString(8).padStart(4, '0')}</mode>`,
    `      <owner>${f.uid}</owner>`,
    `      <group>${f.gid}</group>`,
    `    </permissions>`,
    `    <timestamps>`,
    `      <atime>${f.atime}</atime>`,
    `      <mtime>${f.mtime}</mtime>`,
    `      <ctime>${f.ctime}</ctime>`,
    `      <btime>0</btime>`,
    `    </timestamps>`,
    `  </target>`,
    `</volume>`,
    '',
  ].join('\n');
}
