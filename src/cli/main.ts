/**
 * The `remote-cluster-guard` command: `serve`, `validate`, `audit`, `certs`, `rules`.
 * Bad flags and unreadable input exit with status 2.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CERT_DIR } from '../certs/files.js';
import { DEFAULT_NAMESPACE, DEFAULT_SERVICE } from '../certs/generate.js';
import { settlesWithin } from '../common/deadline.js';
import { ALL_RULES } from '../rules/index.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_INFLIGHT_BODY_BYTES } from '../server/admission-handler.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../server/connection-limit.js';
import { DEFAULT_DRAIN_TIMEOUT, DEFAULT_MAX_CONNECTIONS } from '../server/https-server.js';
import { runCerts } from './certs.js';
import { auditState } from './audit.js';
import {
  EVENT_SOURCES,
  loadConfig,
  ConfigError,
  REPORTS_SETTINGS,
  settingsOf,
  type EventSource,
  type ReportsSetting,
  type Settings,
} from '../config/config-file.js';
import { DEFAULT_POLICY, modeOf, type RuleMode } from '../config/policy.js';
import type { AnyRule } from '../engine/rule.js';
import { Engine } from '../engine/engine.js';
import { HANDLED_KINDS, type HandledKind } from '../kube/kinds.js';
import { addToState, loadManifests, ManifestError } from '../state/manifests.js';
import { DEFAULT_FEDERATION_SECRET_NAMESPACE } from '../state/federation/federation-discovery.js';
import { DEFAULT_MAX_REMOTE_OBJECTS } from '../state/federation/remote-cluster-watcher.js';
// `serve` and the live state (express, prom-client, @kubernetes/client-node: about 1.3 s of module loading
// on the 2-core machine) are imported when used, so `validate` of files starts in a fraction of that.
import type { ClusterWatcher } from '../state/live/cluster-watcher.js';
import { formatResult, OUTPUT_FORMATS } from './output/index.js';
import { TOOL } from './package-info.js';
import { exitStatus, runValidate, type FailOn } from './validate.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** `--fail-on`, the same for `validate` and `audit`. */
const failOnOption = () =>
  new Option('--fail-on <level>', 'exit 1 on a denial (deny), or on a denial or a warning (warn)')
    .choices(['deny', 'warn'])
    .default('deny');

/** `--reports`, the same for `serve` and `audit --write-reports`. */
const reportsOption = (what: string) =>
  new Option('--reports <api>', `${what}: auto (openreports.io if served, else wgpolicyk8s.io), openreports, wgpolicyk8s or off`)
    .choices(REPORTS_SETTINGS)
    .default('auto');

/** `a, b and c`: the admitted kinds in help text, from the kind list. */
const andList = (items: readonly string[]) => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

function integer(min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** `--emit-events admission,audit`: the comma-separated sources, each once. */
function eventSources(value: string): EventSource[] {
  const sources = value.split(',').map((s) => s.trim());
  for (const s of sources) {
    if (!(EVENT_SOURCES as readonly string[]).includes(s))
      throw new InvalidArgumentError(`must be ${EVENT_SOURCES.join(', ')} or both, comma-separated`);
  }
  return [...new Set(sources)] as EventSource[];
}

/** An error of a command's action (not of its flags, which commander reports): one line on stderr, exit 2. */
export class CliError extends Error {
  override name = 'CliError';
}

/** `--read-ca-secrets`, the same for `serve`, `audit` and `validate` (src/config/secret-reads.ts). */
const READ_CA_SECRETS_FLAG = '--read-ca-secrets [namespaces]';
const READ_CA_SECRETS_HELP =
  'read Secrets by name (get) for the CA trust rules: in every namespace, or only these (comma-separated); needs RBAC get on secrets (deploy/components/read-ca-secrets)';

/** Default of `--sync-timeout`, in seconds. */
const DEFAULT_SYNC_TIMEOUT = 30;

/**
 * Watches the cluster of `kubeconfig` (else KUBECONFIG, ~/.kube/config or
 * in-cluster) until synced, read-only, for `validate` and `audit`. Fails at
 * once (CliError) when there is no usable kubeconfig, and
 * with a CliError naming the pending sources and the last list error after
 * `timeoutSeconds`. The watcher's own retry logs stay quiet (level error):
 * the one line of the error says what went wrong.
 */
async function watchCluster(
  kubeconfig: string | undefined,
  settings: Pick<Settings, 'operatorNamespace' | 'readCaSecrets'>,
  timeoutSeconds: number,
): Promise<ClusterWatcher> {
  const [{ ClusterWatcher, hasDefaultKubeConfig, KubeConfigError, loadKubeConfig }, { createLogger }] = await Promise.all([
    import('../state/live/cluster-watcher.js'),
    import('../log/logger.js'),
  ]);
  if (!kubeconfig && !hasDefaultKubeConfig()) {
    throw new CliError('no cluster configured: pass --kubeconfig FILE or --state FILE, or set KUBECONFIG');
  }
  let kc;
  try {
    kc = loadKubeConfig(kubeconfig);
  } catch (err) {
    throw err instanceof KubeConfigError ? new CliError(err.message) : err;
  }
  const live = new ClusterWatcher(kc, settings.operatorNamespace, createLogger('error', process.stderr), {
    readCaSecrets: settings.readCaSecrets,
  });
  const deadline = Date.now() + timeoutSeconds * 1000;
  // start() waits for each source's first attempt, which an unresponsive server can hold up: bounded by the same deadline.
  await settlesWithin(live.start(), timeoutSeconds * 1000);
  if (!(await live.waitForSync(Math.max(0, deadline - Date.now())))) {
    const pending = live.unsynced().join(', ');
    const last = live.lastError();
    await live.stop();
    throw new CliError(
      `the cluster's state did not sync within ${timeoutSeconds} s (pending: ${pending}${last ? `; last error: ${last}` : ''})`,
    );
  }
  return live;
}

/**
 * The policy and operator namespace of `--config` (the file `serve` reads),
 * through the function `serve` uses, so `validate` and `audit` judge as the
 * webhook does; `--operator-namespace` when the file sets none. Throws
 * ConfigError for an invalid file.
 */
function cliConfig(o: {
  config?: string;
  operatorNamespace: string;
  readCaSecrets?: boolean | string;
}): Settings & { reports?: ReportsSetting } {
  const config = o.config
    ? loadConfig(
        o.config,
        ALL_RULES.map((r) => r.id),
      )
    : undefined;
  return { ...settingsOf(config, o), ...(config?.reports ? { reports: config.reports } : {}) };
}

/**
 * `audit --write-reports`: the audit's results as policy reports in the
 * audited cluster, through the writer `serve` uses. Throws CliError when no
 * report API is served or a write failed after its retries (the writer has
 * logged why on stderr).
 */
async function writeReports(
  kubeconfig: string | undefined,
  setting: ReportsSetting,
  webhookConfiguration: string,
  result: ReturnType<typeof auditState>,
): Promise<void> {
  const [{ ReportWriter }, { loadKubeConfig }, { createLogger }, { auditedObject }] = await Promise.all([
    import('../server/report-writer.js'),
    import('../state/live/cluster-watcher.js'),
    import('../log/logger.js'),
    import('../reports/audited.js'),
  ]);
  const writer = new ReportWriter(loadKubeConfig(kubeconfig), {
    log: createLogger('warn', process.stderr),
    setting: () => setting,
    webhookConfiguration,
  });
  const run = await writer.write(result.results.map((r) => auditedObject(r, r.decision)));
  if (setting !== 'off' && !run.api)
    throw new CliError(`--write-reports: no policy report API (--reports ${setting}) is served by the cluster`);
  process.stderr.write(
    `policy reports (${run.api ?? 'off'}): ${run.created} created, ${run.updated} updated, ${run.deleted} deleted, ${run.unchanged} unchanged, ${run.failed} failed\n`,
  );
  if (run.failed > 0) throw new CliError(`--write-reports: ${run.failed} policy report writes failed`);
}

/**
 * The README section holding each kind's rule table, as GitHub's heading
 * anchor (the heading lower-cased, punctuation other than `-` dropped, spaces
 * as `-`): `### Elasticsearch (\`elasticsearch.k8s.elastic.co/v1\`, CREATE and
 * UPDATE)` and `### Calico federation (...)`. test/unit/kinds/rule-docs.test.ts
 * checks that each rule's row is in the section its anchor names.
 */
export const README_RULE_SECTIONS: { readonly [K in HandledKind]: string } = {
  Elasticsearch: 'elasticsearch-elasticsearchk8selasticcov1-create-and-update',
  IPPool: 'calico-federation-crdprojectcalicoorgv1-and-projectcalicoorgv3-cluster-scoped',
  RemoteClusterConfiguration: 'calico-federation-crdprojectcalicoorgv1-and-projectcalicoorgv3-cluster-scoped',
};

/** One rule id as `rules --output json` lists it. */
export interface RuleDescription {
  id: string;
  /** The kinds it checks, in registry order. */
  kinds: HandledKind[];
  /** Its summary for each kind (a rule id covering several kinds has one rule object, and summary, per kind). */
  summaries: Partial<Record<HandledKind, string>>;
  /** Its mode when no configuration file names it. */
  defaultMode: RuleMode;
  /** `README.md#<anchor>` of the section with its table row. */
  readme: string;
}

/** The rules by id, in registry order. */
export function describeRules(rules: readonly AnyRule[]): RuleDescription[] {
  const byId = new Map<string, RuleDescription>();
  for (const r of rules) {
    const e = byId.get(r.id) ?? {
      id: r.id,
      kinds: [],
      summaries: {},
      defaultMode: modeOf(DEFAULT_POLICY, r.id),
      readme: `README.md#${README_RULE_SECTIONS[r.kind]}`,
    };
    e.kinds.push(r.kind);
    e.summaries[r.kind] = r.summary;
    byId.set(r.id, e);
  }
  return [...byId.values()];
}

export function buildProgram(): Command {
  const { version } = TOOL;
  const program = new Command('remote-cluster-guard')
    .description('Admission webhook for ECK Elasticsearch remote clusters and Calico federation')
    .version(version, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });

  program
    .command('serve')
    .description('serve the HTTPS admission webhook (POST /validate, POST /mutate; GET /healthz, /readyz, /metrics on their own ports)')
    .option('--port <port>', 'HTTPS port of the webhook (/validate, /mutate)', integer(1, 65535), 8443)
    .option('--metrics-port <port>', 'plain HTTP port of /metrics (0: on the webhook port)', integer(0, 65535), 8080)
    .option('--health-port <port>', 'plain HTTP port of /healthz and /readyz (0: on the webhook port)', integer(0, 65535), 8081)
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--tls-cert <file>', 'serving certificate (PEM), reloaded when it changes; default: certs/tls.crt, created on first start')
    .option('--tls-key <file>', 'serving private key (PEM)')
    .option(
      '--tls-ca <file>',
      'CA bundle (PEM) the webhook configurations trust: a reloaded certificate must chain to it (default: ca.crt next to the certificate, else its issuer)',
    )
    .addOption(new Option('--tls-min-version <version>', 'lowest TLS version accepted').choices(['1.2', '1.3']).default('1.2'))
    .option('--client-ca <file>', 'require client certificates signed by this CA (PEM), e.g. the one of the kube-apiserver')
    .option('--client-cn <name>', 'allowed subject CN of client certificates (repeatable; default kube-apiserver)', collect, [] as string[])
    .option('--cert-min-validity <hours>', 'a reloaded or renewed certificate must stay valid at least this long', integer(0, 87_600), 24)
    .option('--cert-dir <dir>', 'where to find or create the certificate when no --tls-* flag is given', DEFAULT_CERT_DIR)
    .option('--state <file>', 'cluster state from manifests (YAML/JSON, repeatable) instead of a live cluster', collect, [] as string[])
    .option('--kubeconfig <file>', 'watch this cluster for state (default: KUBECONFIG, or the in-cluster config in a Pod)')
    .option('--config <file>', 'configuration file (rule modes, excluded namespaces...), reloaded when it changes')
    .addOption(
      new Option('--unsynced <action>', 'what rules answer before the live state has synced').choices(['deny', 'warn']).default('deny'),
    )
    .option(
      '--max-staleness <seconds>',
      'a live watch broken this long makes the rules that need its resource answer --unsynced',
      integer(1, 3600),
      60,
    )
    .option('--no-ratcheting', 'deny violations on UPDATE even when the stored object already had them')
    .option(READ_CA_SECRETS_FLAG, READ_CA_SECRETS_HELP)
    .option(
      '--federation-discovery',
      "watch each remote cluster's IPPools and Nodes through the access its RemoteClusterConfiguration grants (needs a live state; deploy/components/federation-discovery)",
    )
    .option(
      '--federation-secret-namespace <ns>',
      'the only namespace clusterAccessSecrets are read from (get on secrets there)',
      DEFAULT_FEDERATION_SECRET_NAMESPACE,
    )
    .option(
      '--federation-max-remote-objects <n>',
      'most IPPools, and most Nodes, of one remote cluster that discovery indexes; a larger remote is reported unsynced',
      integer(1, 1_000_000),
      DEFAULT_MAX_REMOTE_OBJECTS,
    )
    .option('--operator-namespace <ns>', 'ECK operator namespace (licence ConfigMap and Secrets)', 'elastic-system')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .option(
      '--decision-log <file>',
      'also write the decision log to this file (JSON lines, reopened on SIGHUP); "-": decisions alone on stdout, the process log on stderr',
    )
    .option('--decision-log-required', '/readyz answers 503 while the --decision-log file cannot be written (default: stay ready)')
    .option('--audit-interval <seconds>', 'audit every existing object this often (0: never)', integer(0, 86_400), 0)
    .option(
      '--emit-events <sources>',
      'write Kubernetes Events (events.k8s.io/v1) for denials (admission) and periodic audit violations (audit): admission, audit or admission,audit',
      eventSources,
    )
    .option(
      '--events-namespace <ns>',
      'namespace of Events about namespaced objects that do not exist yet (a denied CREATE); default $POD_NAMESPACE, else remote-cluster-guard',
      process.env['POD_NAMESPACE'] || DEFAULT_NAMESPACE,
    )
    .addOption(reportsOption('after each audit, write its results as policy reports'))
    .option('--shutdown-delay <seconds>', 'after SIGTERM, keep serving this long while readiness is false', integer(0, 60), 5)
    .option(
      '--drain-timeout <seconds>',
      'after the shutdown delay, wait at most this long for in-flight requests and the decision log',
      integer(0, 300),
      DEFAULT_DRAIN_TIMEOUT,
    )
    .option('--max-body-bytes <n>', 'largest accepted request body', integer(1024, 64 * 1024 * 1024), DEFAULT_MAX_BODY_BYTES)
    .option(
      '--max-inflight-body-bytes <n>',
      'request-body bytes all requests together may hold; past it, 429 with Retry-After before the body is read (at least --max-body-bytes)',
      integer(1024, 16 * 1024 * 1024 * 1024),
      DEFAULT_MAX_INFLIGHT_BODY_BYTES,
    )
    .option(
      '--max-connections <n>',
      'most open connections; from 90% of it a new one closes the longest-idle',
      integer(1, 1_000_000),
      DEFAULT_MAX_CONNECTIONS,
    )
    .option(
      '--idle-timeout <seconds>',
      'close a connection without a request for this long (above the 90 s the API server keeps one idle)',
      integer(1, 3600),
      DEFAULT_IDLE_TIMEOUT_MS / 1000,
    )
    .option(
      '--manage-certs',
      'keep the CA and serving certificate in a Secret, renew them, and write the caBundle into the webhook configurations',
    )
    .option('--cert-namespace <ns>', 'namespace of the certificate Secret (--manage-certs)', DEFAULT_NAMESPACE)
    .option('--cert-secret <name>', 'name of the certificate Secret (--manage-certs)', 'remote-cluster-guard-certs')
    .option(
      '--cert-service <name>',
      'Service the managed serving certificate is issued for, in --cert-namespace (--manage-certs)',
      DEFAULT_SERVICE,
    )
    .option(
      '--webhook-configuration <name>',
      'name of the Validating and MutatingWebhookConfiguration (--manage-certs)',
      'remote-cluster-guard',
    )
    .option('--cert-validity-days <days>', 'validity of managed serving certificates (the CA lives twice as long)', integer(1, 3650), 365)
    .option('--cert-renew-before-days <days>', 'renew managed certificates this many days before expiry', integer(0, 3650), 30)
    .option('--cert-check-interval <seconds>', 'how often managed certificates are checked', integer(1, 86_400), 3600)
    .action(async (o) => {
      if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new CliError('--tls-cert and --tls-key go together');
      if (o.manageCerts && o.tlsCert) throw new CliError('--manage-certs and --tls-cert exclude each other');
      if (o.maxInflightBodyBytes < o.maxBodyBytes) throw new CliError('--max-inflight-body-bytes must be at least --max-body-bytes');
      o.certCheckIntervalSeconds = o.certCheckInterval;
      o.certMinValidityHours = o.certMinValidity;
      if (o.clientCn.length > 0 && !o.clientCa) throw new CliError('--client-cn needs --client-ca');
      o.clientNames = o.clientCn;
      o.tlsMinVersion = o.tlsMinVersion === '1.3' ? 'TLSv1.3' : 'TLSv1.2';
      // 0: served on the webhook port, as before these ports existed.
      if (o.metricsPort === 0) delete o.metricsPort;
      if (o.healthPort === 0) delete o.healthPort;
      if (o.metricsPort === o.port || o.healthPort === o.port)
        throw new CliError('--metrics-port and --health-port need a port other than --port (or 0)');
      const { runServe } = await import('./serve.js');
      const server = await runServe({ ...o, rules: ALL_RULES });
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      process.on('SIGHUP', () => void server.reopenLogs());
    });

  program
    .command('audit')
    .description(`check every existing ${andList(HANDLED_KINDS)}; exit 1 on a denial`)
    .option('--kubeconfig <file>', 'the cluster to audit (default: KUBECONFIG)')
    .option('--state <file>', 'audit manifests instead of a live cluster (repeatable)', collect, [] as string[])
    .addOption(new Option('--output <format>', 'output format').choices(OUTPUT_FORMATS).default('text'))
    .option('--config <file>', 'configuration file (rule modes)')
    .addOption(failOnOption())
    .option('--sync-timeout <seconds>', 'how long to wait for the live state', integer(1, 600), DEFAULT_SYNC_TIMEOUT)
    .option('--operator-namespace <ns>', 'ECK operator namespace', 'elastic-system')
    .option('--write-reports', 'also write the results as policy reports into the audited cluster (--reports picks the API)')
    .addOption(reportsOption('with --write-reports, the report API'))
    .option(
      '--webhook-configuration <name>',
      'with --write-reports, the ValidatingWebhookConfiguration that owns the reports when it exists',
      'remote-cluster-guard',
    )
    .option(READ_CA_SECRETS_FLAG, READ_CA_SECRETS_HELP)
    .action(async (o) => {
      const settings = cliConfig(o);
      const { policy, operatorNamespace, reports } = settings;
      const useLive = o.state.length === 0;
      if (o.writeReports && !useLive) throw new CliError('--write-reports needs a cluster (--kubeconfig), not --state');
      const live = useLive ? await watchCluster(o.kubeconfig, settings, o.syncTimeout) : undefined;
      try {
        // The CA copies and their sources' Secrets are read by name, not watched: read them for every Elasticsearch first.
        await live?.prepareAll();
        const state = live?.state ?? addToState(loadManifests(o.state)).state;
        // Audit reports what would be denied now: no ratcheting against a previous version.
        const engine = new Engine(ALL_RULES, { operatorNamespace, policy: { ...policy, ratcheting: false } });
        const result = auditState(state, engine);
        process.stdout.write(formatResult(o.output, result));
        process.exitCode = exitStatus(result, o.failOn as FailOn);
        if (o.writeReports) await writeReports(o.kubeconfig, reports ?? (o.reports as ReportsSetting), o.webhookConfiguration, result);
      } finally {
        await live?.stop();
      }
    });

  program
    .command('validate')
    .description(
      'run the rules on manifest files as the API server would: UPDATE of an object already in the state, else CREATE; exit 1 if anything is denied',
    )
    .argument('<files...>', 'YAML or JSON files or directories, - for stdin')
    .option('--state <file>', 'cluster state from manifests (repeatable)', collect, [] as string[])
    .addOption(new Option('--output <format>', 'output format').choices(OUTPUT_FORMATS).default('text'))
    .option('-n, --namespace <ns>', 'namespace for objects that have none', 'default')
    .option('--kubeconfig <file>', "check against this cluster's live state (read-only), e.g. in a GitOps pipeline before a sync")
    .option('--sync-timeout <seconds>', 'how long to wait for the live state', integer(1, 600), DEFAULT_SYNC_TIMEOUT)
    .option('--config <file>', 'configuration file of serve (rule modes, excluded namespaces, operator namespace)')
    .addOption(failOnOption())
    .option('--require-objects', `exit 2 when the files hold no ${andList(HANDLED_KINDS)} that is checked (a mistyped path)`)
    .option('--operator-namespace <ns>', 'ECK operator namespace', 'elastic-system')
    .option(READ_CA_SECRETS_FLAG, READ_CA_SECRETS_HELP)
    .action(async (files: string[], o) => {
      const settings = cliConfig(o);
      const { policy, operatorNamespace } = settings;
      const live = o.kubeconfig ? await watchCluster(o.kubeconfig, settings, o.syncTimeout) : undefined;
      let result;
      try {
        result = await runValidate({
          files,
          state: o.state,
          namespace: o.namespace,
          operatorNamespace,
          policy,
          rules: ALL_RULES,
          ...(live ? { live } : {}),
        });
      } finally {
        await live?.stop();
      }
      if (o.requireObjects && result.results.length === 0) {
        throw new CliError(`no ${andList(HANDLED_KINDS)} to check in ${files.join(', ')} (--require-objects)`);
      }
      for (const p of result.problems) process.stderr.write(`warning: ${p}\n`);
      process.stdout.write(formatResult(o.output, result));
      process.exitCode = exitStatus(result, o.failOn as FailOn);
    });

  program
    .command('certs')
    .description('write a CA and a serving certificate; print the base64 caBundle')
    .option('--service <name>', 'Service name of the webhook', DEFAULT_SERVICE)
    .option('--namespace <ns>', 'namespace of the Service', DEFAULT_NAMESPACE)
    .option('--validity-days <days>', 'validity of both certificates', integer(1, 3650), 365)
    .option('--out-dir <dir>', 'output directory', DEFAULT_CERT_DIR)
    .action((o) => {
      const { caBundle, files } = runCerts({ service: o.service, namespace: o.namespace, validityDays: o.validityDays, outDir: o.outDir });
      process.stderr.write(`wrote ${files.join(', ')}\n`);
      process.stdout.write(caBundle + '\n');
    });

  program
    .command('rules')
    .description('list the rules')
    .addOption(new Option('--output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((o: { output: 'text' | 'json' }) => {
      const rules = describeRules(ALL_RULES);
      if (o.output === 'json') {
        process.stdout.write(JSON.stringify(rules, null, 2) + '\n');
        return;
      }
      // One line per id: the first kind's summary, as before there was a JSON output.
      for (const r of rules) process.stdout.write(`${r.id}\t${r.kinds.join(',')}\t${r.summaries[r.kinds[0]!]}\n`);
    });

  // `remote-cluster-guard validate --version` as well: commander only gives the program the flag.
  for (const command of program.commands) command.version(version, '-V, --version', 'print the version');
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // An InvalidArgumentError is a CommanderError too, but commander has only printed it when it
    // came from parsing a flag (then it arrives here as a plain CommanderError): one thrown by an
    // action is printed here.
    if (err instanceof CommanderError && !(err instanceof InvalidArgumentError)) {
      // Commander has printed the usage error; --help and --version exit 0, every usage error 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ManifestError || err instanceof InvalidArgumentError || err instanceof ConfigError || err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    // Anything else is unexpected; still one line, never a stack trace.
    process.stderr.write(`error: ${(err instanceof Error ? err.message : String(err)).split('\n', 1)[0]}\n`);
    return 2;
  }
}
