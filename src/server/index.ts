export { startServer, isLoopback, type ServerOptions, type RunningServer } from './app.js';
export { RunCatalog, isInside, type CatalogEntry } from './run-catalog.js';
export { runStatus, type RunStatus } from './run-status.js';
export { JobQueue, QueueFullError } from './job-queue.js';
export { LiveFeed, type LiveEvent } from './live-feed.js';
export { ExplainService, ClientError, CHECKPOINTS, type ExplainRequest, type ExplainResult, type CheckpointName, type ModelInfo } from './explain-service.js';
export { TestSplitCache } from './test-split-cache.js';
export { newToken, TOKEN_COOKIE } from './access-token.js';
