#!/usr/bin/env node
import { main } from './main.js';

// `densekit ... --output - | head`: the reader closing the pipe ends the job quietly, as it does for other tools.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2));
