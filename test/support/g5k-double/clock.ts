/**
 * The double's own clock: epoch seconds that run `speed` times faster than real time (0: stopped),
 * plus manual advances. Tests drive it with advance(); the bench runs it fast.
 */
export class DoubleClock {
  #base: number;
  #realStart: number;
  #speed: number;

  constructor(start = Math.floor(Date.now() / 1000), speed = 1) {
    this.#base = start;
    this.#realStart = performance.now();
    this.#speed = speed;
  }

  now(): number {
    return this.#base + ((performance.now() - this.#realStart) / 1000) * this.#speed;
  }

  advance(seconds: number): void {
    this.#base += seconds;
  }

  get speed(): number {
    return this.#speed;
  }

  setSpeed(speed: number): void {
    this.#base = this.now();
    this.#realStart = performance.now();
    this.#speed = speed;
  }
}
