/**
 * Entry point of the `tributary` command (bin/tributary.js imports it): runs the program with the
 * process's arguments and environment and sets the exit code. A command that keeps running (run,
 * serve) resolves -1 and leaves the exit to its signal handlers.
 */
import { main } from './program.js';

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
