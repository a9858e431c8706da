import { Command } from 'commander';
import { InvalidInputError } from '../../../log/errors';
import { startServer } from '../../service';
import { intOption, storeUrlOf, type GlobalOptions } from '../context';

/** serve: the JSON-RPC 2.0 service until SIGTERM/SIGINT. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve JSON-RPC 2.0 on POST /rpc (+ /openrpc.json, /events, /health, /metrics); a token is required off loopback')
    .option('--host <host>', 'TCP host (default 127.0.0.1)')
    .option('--port <port>', 'TCP port (default 8787)')
    .option('--socket <path>', 'also (or, without --host/--port, only) listen on this Unix socket')
    .option('--token <token>', 'require Authorization: Bearer TOKEN on every route but /health; prefer OSIS_TOKEN (--token shows in the process list)')
    .option('--max-contexts <n>', 'most contexts that may exist, default included (default 1000)')
    .option('--max-open-contexts <n>', 'most context stores open at once; idle ones are closed past it (default 64)')
    .action(async (options: { host?: string; port?: string; socket?: string; token?: string; maxContexts?: string; maxOpenContexts?: string }, command: Command) => {
      const globals = command.optsWithGlobals() as GlobalOptions;
      if (options.token !== undefined) {
        process.stderr.write('osis: warning: --token is visible to every user of this machine (ps, /proc/PID/cmdline); set OSIS_TOKEN instead\n');
      }
      if (globals.keys !== undefined) {
        throw new InvalidInputError('serve keeps each context\'s data keys inside that context\'s store; --keys names one key file and is not taken by serve');
      }
      const token = options.token ?? (process.env.OSIS_TOKEN || undefined);
      const port = intOption(options.port, '--port');
      if (port !== undefined && port > 65535) throw new InvalidInputError('--port must be at most 65535');
      const maxContexts = intOption(options.maxContexts, '--max-contexts', 1);
      const maxOpenContexts = intOption(options.maxOpenContexts, '--max-open-contexts', 1);
      const server = await startServer({
        ...(maxContexts !== undefined ? { maxContexts } : {}),
        ...(maxOpenContexts !== undefined ? { maxOpenContexts } : {}),
        storeUrl: storeUrlOf(command),
        ...(globals.schema ? { schema: globals.schema } : {}),
        ...(globals.durability ? { durability: globals.durability } : {}),
        ...(options.host !== undefined ? { host: options.host } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(options.socket !== undefined ? { socket: options.socket } : {}),
        ...(token !== undefined ? { token } : {}),
      });
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          server.close().then(resolve, resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
