/**
 * The one place that quotes for and splits like a POSIX shell. Everything that builds a remote
 * command line (the SSH stack, the workloads, the inventory's ssh options) quotes with `shq` /
 * `shJoin`; everything that reads an argument string (`ansible_ssh_common_args`) splits it with
 * `splitArgs`, which follows Python's `shlex.split` as Ansible's ssh plugin does.
 */

/** Quote one word for a POSIX shell; words made only of safe characters stay bare. */
export function shq(s: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one shell command line. */
export const shJoin = (argv: readonly string[]): string => argv.map(shq).join(' ');

/**
 * Split an argument string the way a POSIX shell (and Ansible's shlex) does: whitespace separates
 * words, single quotes keep everything, double quotes keep everything but `\"`, `\\`, `\$` and
 * `` \` `` escapes, a backslash outside quotes escapes the next character, and adjacent pieces join
 * into one word (`-oFoo="a b"` is one word).
 */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q === "'") {
      if (c === "'") q = null;
      else cur += c;
    } else if (q === '"') {
      if (c === '"') q = null;
      else if (c === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1]!)) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}
