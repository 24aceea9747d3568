/** An ordered measurement: `origin` measures latency to `destination` (the server). */
export interface Pair {
  origin: string;
  destination: string;
}

export type MatrixMode = 'all-pairs' | 'ring' | 'random';

/**
 * Rounds of the circle method (round-robin tournament): with N names (a bye added when N is odd),
 * N-1 rounds in which every name meets every other exactly once and nobody plays twice in a round.
 */
export function roundRobin(names: string[]): Array<Array<[string, string]>> {
  const list: Array<string | null> = [...names];
  if (list.length % 2 === 1) list.push(null);
  const n = list.length;
  const rounds: Array<Array<[string, string]>> = [];
  for (let r = 0; r < n - 1; r++) {
    const round: Array<[string, string]> = [];
    for (let i = 0; i < n / 2; i++) {
      const a = list[i]!;
      const b = list[n - 1 - i]!;
      if (a !== null && b !== null) round.push(r % 2 === 0 ? [a, b] : [b, a]);
    }
    rounds.push(round);
    // Keep the first fixed, rotate the rest clockwise.
    list.splice(1, 0, list.pop()!);
  }
  return rounds.filter((r) => r.length > 0);
}

/**
 * The measurement schedule: rounds of pairs, each host in at most one pair per round, so no
 * host serves (or sends) two measurements at once.
 * - all-pairs: every ordered pair, N(N-1) measurements in 2(N-1) rounds (N even) or 2N (N odd):
 *   the tournament once with a→b, then again with b→a.
 * - ring: each host to the next one (h[i] → h[i+1 mod N]), N measurements in 2 rounds (N even)
 *   or 3 (N odd).
 * - random: each host to a random other host (the seed's runNetperf.pl: faster than all-pairs, a
 *   different sample each time), N measurements packed greedily into conflict-free rounds.
 *   `random` returns a number in [0, 1) (Math.random by default; tests give a seeded one).
 */
export function schedule(names: string[], mode: MatrixMode, random: () => number = Math.random): Pair[][] {
  if (names.length < 2) return [];
  if (new Set(names).size !== names.length) throw new Error('duplicate host names in the latency matrix');
  if (mode === 'random') {
    const pairs = names.map((h, i) => {
      const j = Math.floor(random() * (names.length - 1));
      return { origin: h, destination: names[j >= i ? j + 1 : j]! };
    });
    return packRounds(pairs);
  }
  if (mode === 'all-pairs') {
    const rr = roundRobin(names);
    const fwd = rr.map((round) => round.map(([a, b]) => ({ origin: a, destination: b })));
    const back = rr.map((round) => round.map(([a, b]) => ({ origin: b, destination: a })));
    return [...fwd, ...back];
  }
  const n = names.length;
  const pairs = names.map((h, i) => ({ origin: h, destination: names[(i + 1) % n]! }));
  if (n === 2) return [[pairs[0]!], [pairs[1]!]];
  // Greedy colouring of the ring's edges: even indices, odd indices, and the closing edge when N is odd.
  const rounds: Pair[][] = [[], [], []];
  pairs.forEach((p, i) => {
    if (n % 2 === 1 && i === n - 1) rounds[2]!.push(p);
    else rounds[i % 2]!.push(p);
  });
  return rounds.filter((r) => r.length > 0);
}

/** Pairs into rounds, first fit: each pair goes to the first round where neither of its hosts is yet. */
export function packRounds(pairs: Pair[]): Pair[][] {
  const rounds: Array<{ pairs: Pair[]; busy: Set<string> }> = [];
  for (const p of pairs) {
    let r = rounds.find((x) => !x.busy.has(p.origin) && !x.busy.has(p.destination));
    if (!r) rounds.push((r = { pairs: [], busy: new Set() }));
    r.pairs.push(p);
    r.busy.add(p.origin).add(p.destination);
  }
  return rounds.map((r) => r.pairs);
}

/** True when no host appears twice in any round (the invariant the tests check). */
export function isConflictFree(rounds: Pair[][]): boolean {
  return rounds.every((r) => {
    const seen = new Set<string>();
    for (const p of r) {
      if (seen.has(p.origin) || seen.has(p.destination)) return false;
      seen.add(p.origin);
      seen.add(p.destination);
    }
    return true;
  });
}
