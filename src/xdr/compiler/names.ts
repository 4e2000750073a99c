/** `remote_nonnull_domain` -> `RemoteNonnullDomain`; `virNetMessageError` -> `VirNetMessageError`. */
export function pascalCase(name: string): string {
  return name
    .split('_')
    .filter((p) => p.length > 0)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

/** `need_results` -> `needResults`; names without underscores (`maxMem`, `callbackID`) are kept. */
export function camelCase(name: string): string {
  const lead = /^_*/.exec(name)![0];
  const parts = name.slice(lead.length).split('_').filter((p) => p.length > 0);
  if (!parts.length) return name;
  return lead + parts[0] + parts.slice(1).map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
}

/** `REMOTE_PROGRAM` -> `remote`-ish base words: drops a trailing `_PROGRAM`. */
export function programBase(name: string): string {
  return name.replace(/_PROGRAM$/i, '') || name;
}

/**
 * Strips the longest underscore-delimited prefix shared by all names (VIR_ERR_OK, VIR_ERR_NO_DOMAIN
 * -> OK, NO_DOMAIN), backing off while that would leave an empty name or one starting with a digit.
 * `preferred`, when every name starts with it, is used instead of the computed prefix so that
 * adding a member cannot change the others' names (all procedures of REMOTE start with REMOTE_PROC_).
 */
export function stripCommonPrefix(names: readonly string[], preferred?: string): string[] {
  if (!names.length) return [];
  const valid = (prefixLen: number): boolean =>
    names.every((n) => n.length > prefixLen && !/^[0-9]/.test(n.slice(prefixLen)));
  if (preferred && names.every((n) => n.startsWith(preferred)) && valid(preferred.length)) {
    return names.map((n) => n.slice(preferred.length));
  }
  const split = names.map((n) => n.split('_'));
  let common = 0;
  const first = split[0]!;
  while (common < first.length - 1 && split.every((s) => s.length - 1 > common && s[common] === first[common])) common++;
  for (; common > 0; common--) {
    const len = first.slice(0, common).join('_').length + 1;
    if (valid(len)) return stripMajorityPrefix(names.map((n) => n.slice(len)));
  }
  return [...names];
}

/**
 * A second pass for enums where most members share a longer prefix than all of them do:
 * virErrorNumber is VIR_ERR_* except six VIR_WAR_* warnings. Those keep the part after the
 * all-members prefix (WAR_NO_NETWORK) and the rest lose the majority prefix (NO_DOMAIN).
 */
function stripMajorityPrefix(stripped: string[]): string[] {
  const heads = new Map<string, number>();
  for (const n of stripped) {
    const i = n.indexOf('_');
    if (i > 0) heads.set(n.slice(0, i + 1), (heads.get(n.slice(0, i + 1)) ?? 0) + 1);
  }
  for (const [head, count] of heads) {
    if (count * 4 < stripped.length * 3 || count === stripped.length) continue;
    const out = stripped.map((n) => (n.startsWith(head) && n.length > head.length && !/^[0-9]/.test(n.slice(head.length)) ? n.slice(head.length) : n));
    if (new Set(out).size === out.length) return out;
  }
  return stripped;
}
