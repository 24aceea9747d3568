import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shJoin, shq, splitArgs } from '../../../src/core/shell.js';

/** What /bin/sh makes of a command line: its words (printf, NUL-separated). */
const shWords = (line: string): string[] => execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' }).split('\0').slice(0, -1);

describe('shell quoting and splitting (core/shell.ts)', () => {
  it('quotes so that /bin/sh gives back exactly the words', () => {
    const words = ["it's", 'a $HOME', 'plain', '', 'x"y', 'back\\slash', '*', 'tab\there', 'new\nline'];
    expect(shWords(shJoin(words))).toEqual(words);
    expect(shq('safe/path-1.2:3=4@5%6+7,8')).toBe('safe/path-1.2:3=4@5%6+7,8');
  });

  it('splits like shlex: quotes, escapes, adjacent pieces joined', () => {
    expect(splitArgs(`-o "ProxyCommand=ssh -W %h:%p gw" -oBatchMode=yes`)).toEqual(['-o', 'ProxyCommand=ssh -W %h:%p gw', '-oBatchMode=yes']);
    expect(splitArgs(`-oFoo="a b"'c d' x\\ y ""`)).toEqual(['-oFoo=a bc d', 'x y', '']);
    expect(splitArgs(`"a \\"q\\" \\$x"`)).toEqual(['a "q" $x']);
    expect(splitArgs('  ')).toEqual([]);
  });

  it('splits what shq quoted back into the same words', () => {
    const words = ["it's", 'a b', '-o', 'UserKnownHostsFile=/x y/kh'];
    expect(splitArgs(shJoin(words))).toEqual(words);
  });

  it('agrees with Python shlex.split (what Ansible uses) on ssh argument strings', () => {
    const line = `-o UserKnownHostsFile='/st/ssh dir/known_hosts' -o "ProxyCommand=ssh -W [%h]:%p -l 'bob' gw" -J alice@gw:2222`;
    const py = JSON.parse(execFileSync('/usr/bin/python3', ['-c', 'import json,shlex,sys; print(json.dumps(shlex.split(sys.argv[1])))', line], { encoding: 'utf8' })) as string[];
    expect(splitArgs(line)).toEqual(py);
  });
});
