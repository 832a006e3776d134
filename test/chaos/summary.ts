/** Prints the figures of the last chaos run (results/last-run.json); scripts/chaos.sh runs it at the end. */
import { summarize } from './support';

console.log(summarize());
