import { UsageError } from '../core/errors.js';

/** A deep read-only view: writing to it is an error that says how to change things instead. */
export function readOnlyView<T extends object>(value: T, name: string): T {
  const fail = (prop: PropertyKey): never => {
    throw new UsageError(
      'repl.read_only',
      `${name} is read-only (tried to change ${String(prop)})` + (name === 'cfg' ? "; use loadConfig({ 'section.key': value }) to change the configuration" : ''),
    );
  };
  const cache = new WeakMap<object, object>();
  const wrap = (o: object): object => {
    const hit = cache.get(o);
    if (hit) return hit;
    const p = new Proxy(o, {
      get(t, k, r) {
        const v = Reflect.get(t, k, r);
        return v !== null && typeof v === 'object' ? wrap(v) : v;
      },
      set: (_t, k) => fail(k),
      defineProperty: (_t, k) => fail(k),
      deleteProperty: (_t, k) => fail(k),
      setPrototypeOf: () => fail('prototype'),
    });
    cache.set(o, p);
    return p;
  };
  return wrap(value) as T;
}
