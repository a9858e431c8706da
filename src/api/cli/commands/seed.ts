import { Command } from 'commander';
import { readSeedFile, seedStore } from '../../library/seed';
import { printJson, withStore } from '../context';

/** seed FILE: create-if-absent for every object of a TOML or JSON seed file. */
export function seedCommand(): Command {
  return new Command('seed')
    .description('create each object of a TOML ([[type]] tables) or JSON ({"type":[…]}) seed file unless its sid already exists; prints {"created","existing"}')
    .argument('<file>', 'the seed file; every object carries its sid')
    .action(async (file: string, _options: unknown, command: Command) => {
      const objects = readSeedFile(file);
      await withStore(command, async (store) => printJson(await seedStore(store, objects)));
    });
}
