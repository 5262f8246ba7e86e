/** The HTML/SVG report: pure functions that return strings (no Node APIs). */
export { escapeHtml, formatNumber, linePlot, paletteColor, PALETTE, type PlotSeries, type PlotOptions, type LegendItem, type MarkerShape } from './svg.ts';
export {
  renderReport,
  renderMseSection,
  renderLipschitzSection,
  renderTimingSection,
  renderPhaseSection,
  renderMpcSection,
  renderStudySection,
  renderCellsTable,
  ReportSectionError,
  reportRowsFromSweep,
  aggregateRows,
  type ReportInput,
  type ReportRow,
  type MpcRun,
} from './html.ts';
export {
  cstrPhasePortraits,
  stabilityEllipse,
  defaultPhaseInitialStates,
  defaultPhaseInputs,
  type PhasePanel,
  type PhaseTrajectory,
  type PhasePortraitGroup,
  type PhasePortraitOptions,
} from './phase.ts';
export {
  PUBLISHED_TEST_MSE,
  PUBLISHED_NOISE,
  PUBLISHED_LIPSCHITZ_CSTR,
  PUBLISHED_EPOCHS,
  PUBLISHED_CITATION,
  PUBLISHED_SOURCE,
  publishedTestMse,
} from './published.ts';
export { mpcRunFromResult, cstrMpcRuns } from './mpc-runs.ts';
