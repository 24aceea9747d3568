/**
 * Vega-Lite → SVG in Node (no browser, no canvas: text is measured by Vega's estimate), with one
 * theme for every figure: a sans-serif face, light grid, no chart border, the Okabe–Ito palette
 * (distinguishable with the common colour-vision deficiencies).
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';

export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

export const THEME = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: null },
  title: { fontSize: 14, fontWeight: 600, anchor: 'start', subtitleFontSize: 11, subtitleColor: '#555', offset: 10 },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 500,
    gridColor: '#e6e6e6',
    domainColor: '#888',
    tickColor: '#888',
    labelColor: '#333',
    titleColor: '#222',
  },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: 'right', labelLimit: 320 },
  range: { category: PALETTE },
  point: { size: 48, filled: true },
  line: { strokeWidth: 2 },
} as const;

export type VlSpec = Record<string, unknown>;

/** Render one Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: VlSpec): Promise<string> {
  const full = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: THEME, ...spec };
  const compiled = vl.compile(full as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
