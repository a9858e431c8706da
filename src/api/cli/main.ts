#!/usr/bin/env node
import { CommanderError } from 'commander';
import { EXIT, errorLine, exitCodeFor } from './exit-codes';
import { buildProgram } from './program';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../../../package.json') as { version: string };

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram(version);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      // `osis help [command]` asked for help; `osis` alone (or with only global options) is a usage error.
      if (error.code === 'commander.help') return argv.includes('help') ? EXIT.ok : EXIT.usage;
      return EXIT.usage;
    }
    process.stderr.write(`${errorLine(error)}\n`);
    return exitCodeFor(error);
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
