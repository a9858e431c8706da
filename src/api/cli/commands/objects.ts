import { Command } from 'commander';
import { InvalidInputError } from '../../../log/errors';
import { isPlainObject } from '../../library/validate';
import { intOption, jsonArgument, printJson, withStore } from '../context';
import { parseWhere } from '../where';

function expectOption(command: Command): number | undefined {
  return intOption(command.opts().expectVersion as string | undefined, '--expect-version', 1);
}

function objectArgument(text: string, what: string): Record<string, unknown> {
  const value = jsonArgument(text, what);
  if (!isPlainObject(value)) throw new InvalidInputError(`${what} must be a JSON object`);
  return value;
}

/** new, get, set, update, delete, exists, history: one object at a time. */
export function objectCommands(): Command[] {
  const created = new Command('new')
    .description('create an object and print it (a ULID sid is minted unless given)')
    .argument('<type>', 'object type, e.g. user')
    .argument('<json>', 'the object as JSON, or - to read it from stdin')
    .option('--sid <sid>', 'the sid to create the object under')
    .action(async (type: string, json: string, options: { sid?: string }, command: Command) => {
      const object = objectArgument(json, 'JSON');
      await withStore(command, async (store) => printJson(await store.collection(type)._new(object, options.sid ? { sid: options.sid } : {})));
    });

  const get = new Command('get')
    .description('print an object, now or as it was at a log position or time')
    .argument('<type>')
    .argument('<sid>')
    .option('--meta', 'print {object, version, position, created_at, updated_at}')
    .option('--at <pos|time>', 'a log position or an ISO 8601 time')
    .action(async (type: string, sid: string, options: { meta?: boolean; at?: string }, command: Command) => {
      await withStore(command, async (store) =>
        printJson(await store.collection(type)._get(sid, { withMeta: Boolean(options.meta), ...(options.at !== undefined ? { at: options.at } : {}) })),
      );
    });

  const set = new Command('set')
    .description('replace an existing object entirely (OSIS set); the JSON carries the sid')
    .argument('<type>')
    .argument('<json>', 'the whole object as JSON, or - for stdin')
    .option('--expect-version <n>', 'fail with exit 4 unless the object is at this version')
    .action(async (type: string, json: string, _options: unknown, command: Command) => {
      const object = objectArgument(json, 'JSON');
      const expectedVersion = expectOption(command);
      await withStore(command, async (store) => printJson(await store.collection(type)._set(object, { expectedVersion })));
    });

  const update = new Command('update')
    .description('apply a JSON merge patch (RFC 7396) to an object and print the result')
    .argument('<type>')
    .argument('<sid>')
    .argument('<patch>', 'the patch as JSON (null removes a field), or - for stdin')
    .option('--expect-version <n>', 'fail with exit 4 unless the object is at this version')
    .action(async (type: string, sid: string, patch: string, _options: unknown, command: Command) => {
      const body = objectArgument(patch, 'PATCH');
      const expectedVersion = expectOption(command);
      await withStore(command, async (store) => printJson(await store.collection(type)._update(sid, body, { expectedVersion })));
    });

  const remove = new Command('delete')
    .description('delete an object')
    .argument('<type>')
    .argument('<sid>')
    .option('--expect-version <n>', 'fail with exit 4 unless the object is at this version')
    .action(async (type: string, sid: string, _options: unknown, command: Command) => {
      const expectedVersion = expectOption(command);
      await withStore(command, async (store) => store.collection(type)._delete(sid, { expectedVersion }));
    });

  const exists = new Command('exists')
    .description('print true or false')
    .argument('<type>')
    .argument('<sid>')
    .action(async (type: string, sid: string, _options: unknown, command: Command) => {
      await withStore(command, async (store) => printJson(await store.collection(type)._exists(sid)));
    });

  const erase = new Command('erase')
    .description("crypto-shred an object: destroy its data key, so its personal values are gone from the log, history, indexes and copies")
    .argument('<type>', 'a type that declares personal fields')
    .argument('<sid>')
    .option('--reason <text>', "why (kept in the erased event's meta)")
    .option('--actor <name>', "who asks (kept in the erased event's meta)")
    .action(async (type: string, sid: string, options: { reason?: string; actor?: string }, command: Command) => {
      await withStore(command, async (store) => {
        await store.collection(type)._erase(sid, {
          ...(options.reason !== undefined ? { reason: options.reason } : {}),
          ...(options.actor !== undefined ? { meta: { actor: options.actor } } : {}),
        });
        printJson({ erased: { type, sid } });
      });
    });

  const history = new Command('history')
    .description("print the object's events, oldest first (NDJSON)")
    .argument('<type>')
    .argument('<sid>')
    .action(async (type: string, sid: string, _options: unknown, command: Command) => {
      await withStore(command, async (store) => {
        for (const event of await store.collection(type)._history(sid)) printJson(event);
      });
    });

  return [created, get, set, update, remove, erase, exists, history];
}

/** list and find: pages of sids (or whole objects with --full). */
export function queryCommands(): Command[] {
  const printPage = (page: { items: unknown[]; next_cursor?: string }, full: boolean) => {
    for (const item of page.items) process.stdout.write(full ? `${JSON.stringify(item)}\n` : `${String(item)}\n`);
    if (page.next_cursor) process.stderr.write(`next_cursor: ${page.next_cursor}\n`);
  };
  const list = new Command('list')
    .description('print sids in sid order, one per line (whole objects with --full); the next page cursor goes to stderr')
    .argument('<type>')
    .option('--limit <n>', 'page size, 1 to 10000', '100')
    .option('--cursor <c>', 'continue from a previous page')
    .option('--full', 'print whole objects as JSON lines')
    .action(async (type: string, options: { limit: string; cursor?: string; full?: boolean }, command: Command) => {
      const limit = intOption(options.limit, '--limit', 1);
      await withStore(command, async (store) => {
        const c = store.collection(type);
        const query = { limit, cursor: options.cursor };
        printPage(options.full ? await c._list_full(query) : await c._list(query), Boolean(options.full));
      });
    });

  const find = new Command('find')
    .description('print sids matching filters and/or a full-text query (ranked); whole objects with --full')
    .argument('<type>')
    .option('--where <expr>', 'FIELD=VALUE, FIELD!=VALUE, FIELD>VALUE, FIELD>=VALUE, FIELD<VALUE, FIELD<=VALUE (repeatable)', collect, [])
    .option('--text <query>', 'full text: words (all must match), "phrases", prefix*, OR')
    .option('--limit <n>', 'page size, 1 to 10000', '100')
    .option('--cursor <c>', 'continue from a previous page')
    .option('--full', 'print whole objects as JSON lines')
    .action(async (type: string, options: { where: string[]; text?: string; limit: string; cursor?: string; full?: boolean }, command: Command) => {
      const limit = intOption(options.limit, '--limit', 1);
      const filter = parseWhere(options.where);
      await withStore(command, async (store) => {
        const c = store.collection(type);
        const query = { filter, limit, cursor: options.cursor, ...(options.text !== undefined ? { text: options.text } : {}) };
        printPage(options.full ? await c._find_full(query) : await c._find(query), Boolean(options.full));
      });
    });
  return [list, find];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
