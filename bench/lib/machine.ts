/** What the figures were measured on, and with which source. */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ROOT } from './procs.js';

export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  commit: string;
  /** Uncommitted changes in src/ at the time (files), so a figure can be tied to its code. */
  dirtySrc: string[];
}

function sh(cmd: string): string {
  try {
    return execSync(cmd, { cwd: ROOT, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function machineInfo(): MachineInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf-8');
  return {
    date: new Date().toISOString(),
    nproc: Number(sh('nproc')) || os.availableParallelism(),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: os.release(),
    commit: sh('git rev-parse --short HEAD') || 'unknown',
    dirtySrc: sh('git status --porcelain -- src')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().replace(/^\S+\s+/, '')),
  };
}

/** 1-minute load average: other work on the machine competes with the measurement. */
export function loadAverage(): number {
  return Math.round(os.loadavg()[0]! * 100) / 100;
}

/** What every result file says of its run: where, how long, and how busy the machine was. */
export interface RunInfo {
  machine: MachineInfo;
  durationSeconds: number;
  /** 1-minute load average at the start and at the end of the run. */
  loadAverage: { start: number; end: number };
}

/** Reads the machine and the load average now; `finish()` gives the run's RunInfo at its end. */
export function startRun(): { machine: MachineInfo; finish(): RunInfo } {
  const started = Date.now();
  const machine = machineInfo();
  const start = loadAverage();
  return {
    machine,
    finish: () => ({ machine, durationSeconds: (Date.now() - started) / 1000, loadAverage: { start, end: loadAverage() } }),
  };
}
