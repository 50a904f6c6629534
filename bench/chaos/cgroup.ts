/**
 * A memory cgroup for one process tree, as the kubelet makes for a container
 * with `limits.memory`: cgroup v2 (memory.max, memory.events) when the
 * unified hierarchy has the memory controller, else v1 (memory.limit_in_bytes,
 * memory.oom_control). Needs root and a writable /sys/fs/cgroup.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCgroup {
  /** The directory; write a pid to `procs` to move a process in. */
  dir: string;
  procs: string;
  version: 1 | 2;
  /** Processes the kernel's OOM killer killed in it. */
  oomKills(): number;
  /** Highest memory use seen, bytes (NaN if the kernel does not keep it). */
  peakBytes(): number;
  /** Removes it (its processes must have exited). */
  remove(): void;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf-8');
  } catch {
    return '';
  }
}

/** The cgroup v1 memory directory this process is in (/proc/self/cgroup line `N:memory:/path`). */
function ownV1MemoryDir(): string | undefined {
  const line = read('/proc/self/cgroup')
    .split('\n')
    .find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  if (!line) return undefined;
  const dir = join('/sys/fs/cgroup/memory', line.slice(line.lastIndexOf(':') + 1));
  return existsSync(dir) ? dir : undefined;
}

/** Makes a child cgroup `name` limited to `limitBytes` (no swap). Throws with the reason when none can be made. */
export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup {
  const v2root = '/sys/fs/cgroup';
  if (read(join(v2root, 'cgroup.controllers')).split(/\s+/).includes('memory')) {
    // The v2 root may not delegate memory to its children yet.
    if (!read(join(v2root, 'cgroup.subtree_control')).includes('memory')) writeFileSync(join(v2root, 'cgroup.subtree_control'), '+memory');
    const dir = join(v2root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'memory.max'), String(limitBytes));
    if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
    return {
      dir,
      procs: join(dir, 'cgroup.procs'),
      version: 2,
      oomKills: () => Number(/^oom_kill (\d+)/m.exec(read(join(dir, 'memory.events')))?.[1] ?? 0),
      peakBytes: () => Number(read(join(dir, 'memory.peak')).trim() || Number.NaN),
      remove: () => rmdirSync(dir),
    };
  }
  const parent = ownV1MemoryDir();
  if (!parent) throw new Error('no memory cgroup controller found (neither cgroup v2 with memory nor a v1 memory hierarchy)');
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
  // memsw (memory + swap) can only be set once the memory limit is; absent without swap accounting.
  if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
  return {
    dir,
    procs: join(dir, 'cgroup.procs'),
    version: 1,
    oomKills: () => Number(/^oom_kill (\d+)/m.exec(read(join(dir, 'memory.oom_control')))?.[1] ?? 0),
    peakBytes: () => Number(read(join(dir, 'memory.max_usage_in_bytes')).trim() || Number.NaN),
    remove: () => rmdirSync(dir),
  };
}
