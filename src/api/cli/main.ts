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

/** Most a signalled command may take to finish cleanly (serve and log --follow close gracefully) before it is ended. */
const SIGNAL_GRACE_MS = 800;

/**
 * SIGINT and SIGTERM always end the CLI within a second: commands that handle them close gracefully, and
 * whatever is still running after SIGNAL_GRACE_MS is ended with 128 + the signal's number. (A library the
 * CLI loads installs its own signal handler, which turns off Node's default of dying at once.)
 */
function endOnSignals(): void {
  const numbers: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };
  for (const signal of Object.keys(numbers)) {
    process.once(signal, () => {
      setTimeout(() => process.exit(128 + numbers[signal]), SIGNAL_GRACE_MS).unref();
    });
  }
}

if (require.main === module) {
  endOnSignals();
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
