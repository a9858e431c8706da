import { Command } from 'commander';
import { InvalidInputError } from '../../../log/errors';
import { EXIT } from '../exit-codes';
import { intOption, printJson, withStore } from '../context';
import { progressBar } from '../progress';
import { followLog } from '../follow';

/** log, stats, rebuild, verify: whole-store commands. */
export function storeCommands(): Command[] {
  const log = new Command('log')
    .description('print the global log as NDJSON events; --follow keeps streaming new ones')
    .option('--from <pos>', 'first position to print', '1')
    .option('--type <type>', 'only events of this type')
    .option('--follow', 'keep streaming new events (also from other processes) until SIGINT/SIGTERM')
    .action(async (options: { from: string; type?: string; follow?: boolean }, command: Command) => {
      const from = intOption(options.from, '--from', 0)!;
      const types = options.type ? [options.type] : undefined;
      await withStore(command, async (store) => {
        if (!options.follow) {
          for (let next = from; ; ) {
            const batch = await store.log.readAll(next, { limit: 5000 });
            for (const event of batch) if (!types || types.includes(event.type)) printJson(event);
            if (batch.length < 5000) break;
            next = batch[batch.length - 1].position + 1;
          }
          return;
        }
        await followLog(store, { from, types });
      });
    });

  const stats = new Command('stats')
    .description('print counts per type, head position and projection checkpoints as JSON')
    .action(async (_options: unknown, command: Command) => {
      await withStore(command, async (store) => printJson(await store.stats()));
    });

  const rebuild = new Command('rebuild')
    .description('re-derive the projections from the log (blue-green: reads go on, then one swap); with --to/--at, build them as of that moment into a separate file')
    .option('--projection <name>', 'objects or fulltext (both are rebuilt together)')
    .option('--to <pos>', 'build as of this log position into --into FILE')
    .option('--at <time>', 'build as of this ISO 8601 time into --into FILE')
    .option('--into <file>', 'the new SQLite file for --to/--at (default ./osis-snapshot-<pos|time>.db)')
    .action(async (options: { projection?: string; to?: string; at?: string; into?: string }, command: Command) => {
      if (options.projection !== undefined && !['objects', 'fulltext'].includes(options.projection)) {
        throw new InvalidInputError(`--projection must be objects or fulltext, got ${JSON.stringify(options.projection)}`);
      }
      if (options.to !== undefined && options.at !== undefined) throw new InvalidInputError('give --to or --at, not both');
      if (options.into !== undefined && options.to === undefined && options.at === undefined) throw new InvalidInputError('--into needs --to or --at');
      await withStore(command, async (store) => {
        const bar = progressBar('rebuild');
        const started = Date.now();
        try {
          if (options.to !== undefined || options.at !== undefined) {
            const at = options.to !== undefined ? intOption(options.to, '--to', 0)! : options.at!;
            const file = options.into ?? `osis-snapshot-${String(options.to ?? options.at).replace(/[^0-9A-Za-z]/g, '')}.db`;
            printJson(await store.snapshot(at, file, (done, total) => bar.update(done, total)));
            return;
          }
          const result = await store.rebuild((done, total) => bar.update(done, total));
          bar.stop();
          const seconds = (Date.now() - started) / 1000;
          printJson({ ...result, seconds, events_per_second: Math.round(result.events / Math.max(seconds, 0.001)) });
        } finally {
          bar.stop();
        }
      });
    });

  const verify = new Command('verify')
    .description('check log integrity and projection parity; exit 5 naming where on corruption')
    .option('--erased', "also scan every file of the store for erased objects' personal values (exit 5 on a hit)")
    .option('--scan <path>', 'with --erased: scan this file or directory too, e.g. an export or a copy (repeatable)', (v: string, p: string[]) => [...p, v], [])
    .action(async (options: { erased?: boolean; scan: string[] }, command: Command) => {
      await withStore(command, async (store) => {
        const bar = progressBar('verify');
        const report = await store.verify((done, total) => bar.update(done, total));
        bar.stop();
        const scan = options.erased ? await store.verifyErased(options.scan) : undefined;
        const erased = scan && {
          objects: scan.objects,
          values: scan.values,
          files: scan.files.length,
          hits: scan.hits,
          pending: scan.pending,
          ...(scan.unscanned ? { unscanned: scan.unscanned } : {}),
        };
        printJson(erased ? { ...report, ok: report.ok && erased.hits.length === 0, erased } : report);
        for (const problem of report.problems.slice(0, 20)) process.stderr.write(`osis: CORRUPT: ${problem.where}: ${problem.message}\n`);
        for (const hit of scan?.hits.slice(0, 20) ?? []) {
          process.stderr.write(`osis: CORRUPT: ${hit.file}: offset ${hit.offset}: a personal value of erased ${hit.type}/${hit.sid}\n`);
        }
        if (scan && scan.pending > 0) {
          process.stderr.write(`osis: note: ${scan.pending} erasure(s) not purged yet (their objects are erased; the purge is finished at the next open)\n`);
        }
        if (scan?.unscanned) {
          process.stderr.write(`osis: note: ${scan.unscanned}; "hits":[] covers only the files listed (--scan). See README, Personal data and erasure, on PostgreSQL\n`);
        }
        if (!report.ok || (scan && scan.hits.length > 0)) process.exitCode = EXIT.corrupt;
      });
    });

  return [log, stats, rebuild, verify];
}
