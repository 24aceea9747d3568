/** What the campaign commands' fronts read and print: grid flags and formatted rates and durations (src/campaigns). */
export { parseGridFlag, mergeFactors, formatSeconds } from '../../campaigns/grid.js';
export { fmtRate } from '../../campaigns/search/loop.js';
export { verdictText } from '../../campaigns/search/strategy.js';
