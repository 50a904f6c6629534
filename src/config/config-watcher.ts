/**
 * Reloads the configuration file when it changes, without a restart. A
 * ConfigMap volume updates by swapping a symlink, which inotify on the file
 * misses, so the file is polled (stat every `intervalMs`) and re-read when its
 * content changes. An invalid file never replaces the running configuration:
 * the error is logged and counted.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from '../log/logger.js';
import { ConfigError, parseConfig, type Config } from './config-file.js';

export interface ConfigWatcherHooks {
  apply(config: Config): void;
  failed(error: ConfigError): void;
}

export function watchConfig(
  file: string,
  knownRules: readonly string[],
  initialText: string,
  log: Logger,
  hooks: ConfigWatcherHooks,
  intervalMs = 2000,
): () => void {
  let current = initialText;
  const check = () => {
    let text: string;
    try {
      text = readFileSync(file, 'utf-8');
    } catch (err) {
      const e = new ConfigError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      log.error({ err: e.message }, 'configuration not reloaded; keeping the running one');
      hooks.failed(e);
      return;
    }
    if (text === current) return;
    current = text;
    try {
      const config = parseConfig(text, file, knownRules);
      hooks.apply(config);
      log.info({ file, modes: config.policy.modes }, 'configuration reloaded');
    } catch (err) {
      const e = err instanceof ConfigError ? err : new ConfigError(String(err));
      log.error({ err: e.message }, 'configuration not reloaded; keeping the running one');
      hooks.failed(e);
    }
  };
  watchFile(file, { interval: intervalMs, persistent: false }, check);
  // The watcher only reports changes after its first stat: one made between reading `initialText`
  // and that stat would be missed, so compare once more after one interval, when that stat has been taken.
  const first = setTimeout(check, intervalMs);
  first.unref();
  return () => {
    clearTimeout(first);
    unwatchFile(file, check);
  };
}
