import { Command } from 'commander';
import { InvalidInputError } from '../../../log/errors';
import { formatTable, runBench } from '../../../bench';
import { benchFeed } from '../../../bench/feed-bench';
import { runPgBench } from '../../../bench/pg-bench';
import { runServiceBench } from '../../../bench/service-bench';
import { runWebBench } from '../../../bench/web-bench';
import { printJson } from '../context';

/** bench: the figures of the issues, as ratios to raw baselines measured in the same run. */
export function benchCommand(): Command {
  return new Command('bench')
    .description('measure the store against raw baselines in one run and print a table (or --json)')
    .option('--json', 'print the report as JSON')
    .option('--quick', 'tiny sizes: a smoke run of seconds')
    .option('--only <list>', 'comma-separated groups or scenario ids: new, get, find, open, rebuild, erase')
    .option('--scale <n>', 'multiply dataset sizes and operation counts', '1')
    .option('--service', 'also measure TYPE_get over HTTP and write-to-SSE latency')
    .option('--feed', 'also measure cross-process change-feed latency and catch-up rate (sqlite and file)')
    .option('--web', 'only measure web UI page times on a big sqlite store (1M objects; --quick: 10K)')
    .option('--web-objects <n>', 'objects in the --web store')
    .option('--web-dir <dir>', 'keep the --web store in DIR and reuse it on the next run')
    .option('--pg <url>', 'only measure a postgres:// store against raw pg statements, on scratch schemas of that database (dropped after)')
    .option('--pg-objects <n>', 'objects loaded for the --pg read scenarios (default 100000)')
    .action(async (options: { json?: boolean; quick?: boolean; only?: string; scale: string; service?: boolean; feed?: boolean; web?: boolean; webObjects?: string; webDir?: string; pg?: string; pgObjects?: string }) => {
      if (options.pg) {
        const objects = options.pgObjects !== undefined ? Number(options.pgObjects) : undefined;
        if (objects !== undefined && (!Number.isInteger(objects) || objects < 100)) throw new InvalidInputError('--pg-objects must be an integer of at least 100');
        const report = await runPgBench({ url: options.pg, quick: Boolean(options.quick), ...(objects ? { objects } : {}) });
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTable(report)}\n`);
        return;
      }
      if (options.web) {
        const objects = options.webObjects !== undefined ? Number(options.webObjects) : options.quick ? 10_000 : 1_000_000;
        if (!Number.isInteger(objects) || objects < 100) throw new InvalidInputError('--web-objects must be an integer of at least 100');
        const result = await runWebBench({
          objects,
          ...(options.webDir ? { dir: options.webDir } : {}),
          ...(options.quick ? { requests: 20 } : {}),
          progress: (line) => process.stderr.write(`${line}\n`),
        });
        if (options.json) printJson({ web: result });
        else for (const p of result.pages) process.stdout.write(`${p.path.padEnd(40)} p50 ${p.p50Ms.toFixed(1).padStart(7)} ms  p95 ${p.p95Ms.toFixed(1).padStart(7)} ms  max ${p.maxMs.toFixed(1).padStart(7)} ms\n`);
        return;
      }
      const scale = Number(options.scale);
      if (!Number.isFinite(scale)) throw new InvalidInputError(`--scale must be a number, got ${JSON.stringify(options.scale)}`);
      const report = await runBench({
        json: Boolean(options.json),
        quick: Boolean(options.quick),
        scale,
        ...(options.only ? { only: options.only.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
      });
      const service = options.service ? await runServiceBench(options.quick ? { durationMs: 500, rounds: 1, objects: 100, sseWrites: 20 } : {}) : undefined;
      const feed = options.feed ? [await benchFeed({ backend: 'sqlite' }), await benchFeed({ backend: 'file' })] : undefined;
      if (options.json) {
        printJson({ ...report, ...(service ? { service } : {}), ...(feed ? { feed } : {}) });
        return;
      }
      process.stdout.write(`${formatTable(report)}\n`);
      if (service) process.stdout.write(`\nservice: ${JSON.stringify(service, null, 2)}\n`);
      if (feed) for (const f of feed) process.stdout.write(`\nfeed ${f.backend}: p99 ${f.crossProcessLatencyMs.p99.toFixed(1)} ms, catch-up ${Math.round(f.catchUp.eventsPerSecond)} ev/s\n`);
    });
}
