/**
 * Figures and reports: PNG encoding (through sharp), the jet colormap and CAM overlays, image grids, inline SVG charts,
 * and the self-contained HTML report of a run or experiment directory.
 */
export { encodePng, pngSrc, inlinePngs, checkRaster, type RasterImage } from './png.js';
export { jet, colourise, overlay, greyRaster, camRaster, overlayRaster, colorbar, type Values } from './colormap.js';
export { tileImages, upscale, toRgb, type GridOptions } from './image-grid.js';
export { lineChart, barChart, niceTicks, PALETTE, type Series, type Bar, type LineChartOptions } from './svg-chart.js';
export {
  readRun, readMetrics, readSteps, readAggregate, resolveRunDir,
  type AsRead, type PerClassMetric, type RunFiles, type EpochLine, type StepLine, type Evaluation, type FigureSample, type Aggregate, type AggregateRow, type AggregateMetricInfo, type MeanStd, type TTest,
} from './run-files.js';
export { runReport, runReportBody, runClassNames } from './run-report.js';
export { experimentReport, experimentReportBody, aggregateTable, significanceMark, meanStdCell, metricOf, BASELINE_SETTING, DEFAULT_METRICS } from './experiment-report.js';
export { buildReport, writeReport, ReportError, type BuiltReport } from './report.js';
export { explainImages, explanationStrip, type ExplainOptions, type ImageExplanation } from './explain.js';
export { loadTrainedModel, weightsFile, type LoadedModel } from '../train/trained-model.js';
