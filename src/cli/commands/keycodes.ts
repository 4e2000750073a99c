// Linux key names (input-event-codes.h) for send-key, the common keys. Other codesets' own
// names are not known here: only numbers work for them.
const NAMES: readonly (readonly [string, number])[] = [
  ['ESC', 1], ['MINUS', 12], ['EQUAL', 13], ['BACKSPACE', 14], ['TAB', 15], ['LEFTBRACE', 26], ['RIGHTBRACE', 27], ['ENTER', 28],
  ['LEFTCTRL', 29], ['SEMICOLON', 39], ['APOSTROPHE', 40], ['GRAVE', 41], ['LEFTSHIFT', 42], ['BACKSLASH', 43], ['COMMA', 51],
  ['DOT', 52], ['SLASH', 53], ['RIGHTSHIFT', 54], ['KPASTERISK', 55], ['LEFTALT', 56], ['SPACE', 57], ['CAPSLOCK', 58],
  ['NUMLOCK', 69], ['SCROLLLOCK', 70], ['F11', 87], ['F12', 88], ['KPENTER', 96], ['RIGHTCTRL', 97], ['SYSRQ', 99], ['RIGHTALT', 100],
  ['HOME', 102], ['UP', 103], ['PAGEUP', 104], ['LEFT', 105], ['RIGHT', 106], ['END', 107], ['DOWN', 108], ['PAGEDOWN', 109],
  ['INSERT', 110], ['DELETE', 111], ['POWER', 116], ['PAUSE', 119], ['LEFTMETA', 125], ['RIGHTMETA', 126], ['COMPOSE', 127],
];

function linuxTable(): Map<string, number> {
  const m = new Map<string, number>(NAMES.map(([n, v]) => [`KEY_${n}`, v]));
  '1234567890'.split('').forEach((c, i) => m.set(`KEY_${c}`, 2 + i));
  const rows: readonly [string, number][] = [['QWERTYUIOP', 16], ['ASDFGHJKL', 30], ['ZXCVBNM', 44]];
  for (const [letters, first] of rows) letters.split('').forEach((c, i) => m.set(`KEY_${c}`, first + i));
  for (let i = 1; i <= 10; i++) m.set(`KEY_F${i}`, 58 + i);
  return m;
}

const LINUX = linuxTable();

/** A key name's code in `codeset`; null when unknown (names are case-sensitive, as in libvirt). */
export function keycodeValue(codeset: string, name: string): number | null {
  if (codeset !== 'linux') return null;
  return LINUX.get(name) ?? null;
}
