#!/usr/bin/env node
/** Entry point of the `remote-cluster-guard` binary. */
import { main } from './main.js';

const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
