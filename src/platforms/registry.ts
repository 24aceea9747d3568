/**
 * The platforms, one line each: kind → its folder's index.ts, imported when first needed. Adding a
 * platform is its folder (schema, plan, reserve, status, release, energy, index) and one line here;
 * everything else derives from this list: `PlatformKind`, the `--platform` choices, the `platform`
 * config section (section.ts), which platforms `killjob` asks to release from their own files, and
 * the platform energy sources of `baseline` and the run use cases. The first line is the default kind.
 */
export const PLATFORMS = {
  local: () => import('./local/index.js'),
  static: () => import('./static/index.js'),
  g5k: () => import('./g5k/index.js'),
} as const;

export type PlatformKind = keyof typeof PLATFORMS;

export const PLATFORM_KINDS = Object.keys(PLATFORMS) as [PlatformKind, ...PlatformKind[]];

export const DEFAULT_PLATFORM: PlatformKind = PLATFORM_KINDS[0];

/** The module of each kind, as `platformModule` resolves it. */
export type PlatformModules = { [K in PlatformKind]: Awaited<ReturnType<(typeof PLATFORMS)[K]>>['default'] };

export function isPlatformKind(kind: string): kind is PlatformKind {
  return Object.hasOwn(PLATFORMS, kind);
}
