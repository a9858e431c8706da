import { Command, Option } from 'commander';
import { objectCommands, queryCommands } from './commands/objects';
import { storeCommands } from './commands/log';
import { migrateCommands } from './commands/migrate';
import { seedCommand } from './commands/seed';
import { serveCommand } from './commands/serve';
import { benchCommand } from './commands/bench';

/** The `osis` command line: global options are accepted before or after a command's own words. */
export function buildProgram(version: string): Command {
  const program = new Command('osis')
    .description('osis-store: an event-sourced object store (OSIS _new/_get/_set/_delete/_list/_find over an append-only log)')
    .version(version)
    .option('--store <url>', 'store URL: sqlite:PATH, file:DIR, postgres://USER@HOST:PORT/DB[?schema=NAME] or memory: (env OSIS_STORE; default sqlite:./data/osis.db)')
    .option('--schema <file>', 'schema TOML file (default ./osis.toml when present)')
    .option('--keys <url>', 'where the data keys of personal fields live: sqlite:PATH, or postgres://… for a postgres store (default: inside the store)')
    .addOption(new Option('--durability <mode>', 'full: acknowledged writes survive power loss; normal: survive a crash').choices(['full', 'normal']))
    .showHelpAfterError('(run osis --help for usage)')
    .configureOutput({ outputError: usageError })
    .exitOverride();
  for (const command of [...objectCommands(), ...queryCommands(), seedCommand(), ...storeCommands(), ...migrateCommands(), serveCommand(), benchCommand()]) {
    program.addCommand(command.configureOutput({ outputError: usageError }).configureHelp({ showGlobalOptions: true }).exitOverride());
  }
  return program;
}

/** Usage errors found by commander follow the contract's stderr form too: `osis: INVALID_INPUT: message`. */
function usageError(text: string, write: (text: string) => void): void {
  write(`osis: INVALID_INPUT: ${text.replace(/^error: /, '')}`);
}
