import { Command } from 'commander';
import { copyLog, exportTree, importTree } from '../../migrate';
import { printJson, withStore } from '../context';
import { EXIT } from '../exit-codes';
import { progressBar } from '../progress';

/** import, export, copy: moving data in and out of a store. */
export function migrateCommands(): Command[] {
  const importTreeCommand = new Command('import')
    .description('import a legacy OSIS file-per-object tree (DIR/TYPE/…/SID.otoml); bad files are listed, the rest imported (exit 1 if any)')
    .argument('<dir>', 'the tree to read')
    .action(async (dir: string, _options: unknown, command: Command) => {
      await withStore(command, async (store) => {
        const bar = progressBar('import');
        let report;
        try {
          report = await importTree(store, dir, { onProgress: (done, total) => bar.update(done, total) });
        } finally {
          bar.stop();
        }
        for (const bad of report.bad) process.stderr.write(`osis: ${bad.code}: ${bad.path}: ${bad.message}\n`);
        printJson({ files: report.files, created: report.created, updated: report.updated, unchanged: report.unchanged, bad: report.bad.length });
        if (report.bad.length > 0) process.exitCode = EXIT.failure;
      });
    });

  const exportTreeCommand = new Command('export')
    .description('write every object as DIR/TYPE/SID.otoml (the legacy OSIS tree); DIR must be new or empty')
    .argument('<dir>', 'the directory to write')
    .action(async (dir: string, _options: unknown, command: Command) => {
      await withStore(command, async (store) => {
        const bar = progressBar('export');
        try {
          printJson(await exportTree(store, dir, { onProgress: (done, total) => bar.update(done, total) }));
        } finally {
          bar.stop();
        }
      });
    });

  const copy = new Command('copy')
    .description('copy the whole log into another, empty store (positions, versions and timestamps kept), then verify it')
    .argument('<dest_url>', 'the destination store URL, e.g. sqlite:./copy.db or file:./copy')
    .action(async (destUrl: string, _options: unknown, command: Command) => {
      const durability = (command.optsWithGlobals() as { durability?: 'full' | 'normal' }).durability;
      await withStore(command, async (store) => {
        const copying = progressBar('copy  ');
        const verifying = progressBar('verify');
        try {
          const report = await copyLog(store, destUrl, {
            ...(durability ? { durability } : {}),
            onProgress: (done, total, phase) => (phase === 'copy' ? copying : verifying).update(done, total),
          });
          copying.stop();
          verifying.stop();
          printJson(report);
        } finally {
          copying.stop();
          verifying.stop();
        }
      });
    });

  return [importTreeCommand, exportTreeCommand, copy];
}
