/**
 * Training and evaluation put together: evaluating a trained checkpoint, and experiment grids (models × datasets ×
 * settings × seeds) run, resumed and aggregated with Welch's t-tests.
 */
export { evaluateCheckpoint, evaluationData, type EvaluateCheckpointOptions } from './evaluate-checkpoint.js';
export { parseGrid, readGrid, type ExperimentGrid, type GridSetting, type GridEvaluate, type GridRun } from './grid-schema.js';
export { runExperiment, collectAggregate, type ExperimentOptions } from './run-grid.js';
