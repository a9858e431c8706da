/**
 * `osis-store/service`: the JSON-RPC 2.0 service (HTTP, SSE change feed, metrics, the web UI) over
 * stores opened by URL. Kept apart from the package entry so an embedded store loads no HTTP server.
 */
export { startServer } from './api/service';
export type { ServerOptions, RunningServer } from './api/service';
