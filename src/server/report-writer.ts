/**
 * Writes the audit's results as policy reports (src/reports/build.ts) into
 * the cluster, after each complete audit run, off the admission path.
 *
 * Each run: discovery picks the report API (`auto`: OpenReports, else
 * wgpolicyk8s; a named one only when served), so CRDs installed or removed at
 * run time are followed; the reports this process manages are listed by
 * their `app.kubernetes.io/managed-by: remote-cluster-guard` label; a report
 * is written (server-side apply, field manager `remote-cluster-guard`, with
 * force, so a report someone edited is taken back) only when its canonical
 * form without timestamps differs from the stored one; a report no longer
 * needed is deleted, and so are the managed reports of the other API when
 * both are served. A report someone deleted is missing from the list and
 * so written again.
 *
 * Owner: the install's ValidatingWebhookConfiguration (`serve
 * --webhook-configuration`), when it exists, so deleting the install removes
 * the reports through the garbage collector. Not the Deployment: a namespaced
 * owner cannot own cluster-scoped reports nor reports in other namespaces
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/),
 * and the Elasticsearch reports live in every namespace; a cluster-scoped
 * owner may own both.
 *
 * Faults: a refused request (403, 409, 429, 5xx, an unreachable server) is
 * retried with backoff within the run (`retries` times; 403, 404 and 422 are
 * not retried), counted in `remote_cluster_guard_report_write_failures_total
 * {reason}`, and logged once per reason per run, with the count and one
 * example, never once per report. `write` never rejects.
 */
import {
  AdmissionregistrationV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { oneLine } from '../common/text.js';
import type { ReportsSetting } from '../config/config-file.js';
import type { Logger } from '../log/logger.js';
import type { AuditedObject } from '../reports/audited.js';
import {
  buildReports,
  keepTimestamps,
  MANAGED_BY_LABEL,
  REPORT_API_ORDER,
  REPORT_APIS,
  REPORT_SOURCE,
  reportKey,
  type OwnerReference,
  type PolicyReport,
  type ReportApi,
  type ReportApiName,
} from '../reports/build.js';
import type { Metrics, ReportFailureReason } from './metrics.js';
import { Backoff } from '../state/live/backoff.js';
import { apiStatus } from '../kube/api-status.js';

export interface ReportWriterOptions {
  log: Logger;
  /** Where writes and failures are counted; none for the `audit` command. */
  metrics?: Pick<Metrics, 'reportWrites' | 'reportWriteFailures'>;
  /** Read at each run, so a configuration reload takes effect at the next one. */
  setting: () => ReportsSetting;
  /** Name of the install's ValidatingWebhookConfiguration, the reports' owner when it exists. */
  webhookConfiguration?: string;
  /** Retries of a failed request within a run; default 4. */
  retries?: number;
  /** First retry delay, ms (doubling, jittered, up to 8 s); default 500. */
  retryBaseMs?: number;
  /** Requests in flight at once; default 8. */
  concurrency?: number;
  /** Results per report; default DEFAULT_MAX_RESULTS. */
  maxResults?: number;
  now?: () => number;
}

/** What one run did. */
export interface ReportRun {
  /** The API written; undefined when none is served (or `off`). */
  api?: ReportApiName;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /** Reports (or deletions) that failed after their retries. */
  failed: number;
}

interface StoredReport extends KubernetesObject {
  results?: unknown[];
  summary?: unknown;
  source?: unknown;
}

/** A request that failed; `reason` for the metric, `detail` one line for the log. */
class WriteFailure extends Error {
  constructor(
    readonly reason: ReportFailureReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export function failureReason(err: unknown): ReportFailureReason {
  const code = apiStatus(err);
  if (code === undefined) return 'unreachable';
  if (code === 401 || code === 403) return 'forbidden';
  if (code === 404) return 'not_found';
  if (code === 409) return 'conflict';
  if (code === 400 || code === 422) return 'invalid';
  if (code === 429) return 'throttled';
  return code >= 500 ? 'server_error' : 'invalid';
}

const RETRIED: ReadonlySet<ReportFailureReason> = new Set(['conflict', 'throttled', 'server_error', 'unreachable']);

/** The Status message of an ApiException's body when there is one, else the error's first line; at most 300 characters. */
function detailOf(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  let text: string | undefined;
  if (typeof body === 'string') {
    try {
      text = (JSON.parse(body) as { message?: string }).message;
    } catch {
      text = body;
    }
  } else if (body && typeof body === 'object') text = (body as { message?: string }).message;
  const code = (err as { code?: unknown }).code;
  const line = oneLine(text ?? (err instanceof Error ? err.message : String(err)));
  return (typeof code === 'number' ? `${code}: ` : '') + (line.length > 300 ? line.slice(0, 300) + '…' : line);
}

/** Runs `tasks` with at most `limit` in flight. */
async function pool(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

const reportId = (r: { metadata?: { namespace?: string; name?: string } }) =>
  r.metadata?.namespace ? `${r.metadata.namespace}/${r.metadata.name}` : (r.metadata?.name ?? '');

export class ReportWriter {
  private readonly custom: CustomObjectsApi;
  private readonly admission: AdmissionregistrationV1Api;
  /** What the last run logged about the API and the owner, so each is logged when it changes, not every run. */
  private lastApi: string | undefined;
  private lastOwner: string | undefined;
  private failures = new Map<ReportFailureReason, { count: number; example: string }>();

  constructor(
    kc: KubeConfig,
    private readonly o: ReportWriterOptions,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.admission = kc.makeApiClient(AdmissionregistrationV1Api);
  }

  /** Brings the reports in line with `objects` (every audited object of one complete run). Never rejects. */
  async write(objects: readonly AuditedObject[]): Promise<ReportRun> {
    const run: ReportRun = { created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0 };
    this.failures = new Map();
    const setting = this.o.setting();
    if (setting === 'off') return run;
    try {
      const served = await this.servedApis();
      const api = setting === 'auto' ? served[0] : served.find((a) => a.name === setting);
      const apiText = api ? `${api.group}/${api.version}` : 'none';
      if (apiText !== this.lastApi) {
        if (api) this.o.log.info({ api: apiText, reports: setting }, 'writing policy reports');
        else
          this.o.log.warn(
            { reports: setting, served: served.map((a) => a.name) },
            'no policy report API served (openreports.io or wgpolicyk8s.io CRDs): reports are not written',
          );
        this.lastApi = apiText;
      }
      if (!api) return run;
      run.api = api.name;
      const owner = await this.owner();
      const now = this.o.now?.() ?? Math.floor(Date.now() / 1000);
      const desired = buildReports(objects, api, {
        now,
        ...(owner ? { owner } : {}),
        ...(this.o.maxResults ? { maxResults: this.o.maxResults } : {}),
      });
      const stored = await this.listManaged(api);
      const tasks: (() => Promise<void>)[] = [];
      for (const report of desired) {
        const id = reportId(report);
        const current = stored.get(`${report.kind}\0${id}`);
        stored.delete(`${report.kind}\0${id}`);
        if (current && reportKey(current) === reportKey(report)) {
          run.unchanged++;
          continue;
        }
        tasks.push(() => this.apply(api, keepTimestamps(report, current), current ? 'update' : 'create', run));
      }
      for (const gone of stored.values()) tasks.push(() => this.delete(api, gone, run));
      // Reports of the API not chosen, when it is served too (a changed --reports, or auto after OpenReports was installed).
      for (const other of served.filter((a) => a !== api)) {
        const old = await this.listManaged(other);
        for (const gone of old.values()) tasks.push(() => this.delete(other, gone, run));
      }
      await pool(tasks, this.o.concurrency ?? 8);
    } catch (err) {
      // A list or discovery that failed after its retries: nothing more is written this run.
      if (!(err instanceof WriteFailure)) this.note('unreachable', detailOf(err));
      run.failed++;
    }
    for (const [reason, { count, example }] of this.failures)
      this.o.log.warn({ reason, failures: count, example }, 'policy report requests failed');
    if (run.created + run.updated + run.deleted > 0)
      this.o.log.info(
        { api: run.api, created: run.created, updated: run.updated, deleted: run.deleted, unchanged: run.unchanged, failed: run.failed },
        'policy reports written',
      );
    return run;
  }

  private note(reason: ReportFailureReason, detail: string): void {
    this.o.metrics?.reportWriteFailures.inc({ reason });
    const entry = this.failures.get(reason);
    if (entry) entry.count++;
    else this.failures.set(reason, { count: 1, example: detail });
  }

  /**
   * `fn` with retries: a retried reason waits a jittered, doubling delay.
   * Every failed attempt is counted; the last one throws a WriteFailure.
   * `tolerate` reasons resolve undefined instead (a 404 on a delete).
   */
  private async call<T>(what: string, fn: () => Promise<T>, tolerate: ReportFailureReason[] = []): Promise<T | undefined> {
    const backoff = new Backoff(this.o.retryBaseMs ?? 500);
    const retries = this.o.retries ?? 4;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const reason = failureReason(err);
        if (tolerate.includes(reason)) return undefined;
        this.note(reason, `${what}: ${detailOf(err)}`);
        if (!RETRIED.has(reason) || attempt >= retries) throw new WriteFailure(reason, detailOf(err));
        await new Promise((r) => setTimeout(r, backoff.next()));
      }
    }
  }

  /** The report APIs served now, in `auto` order: both of an API's report resources must be served. */
  private async servedApis(): Promise<ReportApi[]> {
    const served: ReportApi[] = [];
    for (const name of REPORT_API_ORDER) {
      const api = REPORT_APIS[name];
      const list = await this.call(
        `discovery of ${api.group}/${api.version}`,
        () => this.custom.getAPIResources({ group: api.group, version: api.version }),
        ['not_found'],
      );
      const plurals = new Set((list?.resources ?? []).map((r) => r.name));
      if (plurals.has(api.namespaced.plural) && plurals.has(api.cluster.plural)) served.push(api);
    }
    return served;
  }

  /** The install's ValidatingWebhookConfiguration as an owner reference; undefined when unnamed, absent or unreadable (logged when that changes). */
  private async owner(): Promise<OwnerReference | undefined> {
    const name = this.o.webhookConfiguration;
    if (!name) return undefined;
    let owner: OwnerReference | undefined;
    let problem: string | undefined;
    try {
      const vwc = await this.admission.readValidatingWebhookConfiguration({ name });
      if (vwc.metadata?.uid)
        owner = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', name, uid: vwc.metadata.uid };
    } catch (err) {
      problem = detailOf(err);
    }
    const state = owner ? `uid ${owner.uid}` : `none (${problem ?? 'no uid'})`;
    if (state !== this.lastOwner) {
      if (owner)
        this.o.log.info(
          { owner: `ValidatingWebhookConfiguration ${name}`, uid: owner.uid },
          'policy reports are owned by the webhook configuration',
        );
      else
        this.o.log.warn({ webhookConfiguration: name, problem }, 'policy reports have no owner: the webhook configuration cannot be read');
      this.lastOwner = state;
    }
    return owner;
  }

  /** The managed reports of `api`, both kinds, keyed by kind, namespace and name. A resource not served (CRD just removed) lists as empty. */
  private async listManaged(api: ReportApi): Promise<Map<string, StoredReport>> {
    const found = new Map<string, StoredReport>();
    for (const { kind, plural } of [api.namespaced, api.cluster]) {
      let token: string | undefined;
      do {
        const page = (await this.call(
          `list ${plural}.${api.group}`,
          () =>
            this.custom.listClusterCustomObject({
              group: api.group,
              version: api.version,
              plural,
              labelSelector: `${MANAGED_BY_LABEL}=${REPORT_SOURCE}`,
              limit: 500,
              ...(token ? { _continue: token } : {}),
            }),
          ['not_found'],
        )) as { items?: StoredReport[]; metadata?: { _continue?: string; continue?: string } } | undefined;
        for (const item of page?.items ?? []) found.set(`${kind}\0${reportId(item)}`, { ...item, kind });
        token = page?.metadata?.continue ?? page?.metadata?._continue;
      } while (token);
    }
    return found;
  }

  private async apply(api: ReportApi, report: PolicyReport, verb: 'create' | 'update', run: ReportRun): Promise<void> {
    const { name, namespace } = report.metadata;
    const common = { group: api.group, version: api.version, name, body: report, fieldManager: REPORT_SOURCE, force: true };
    const options = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    try {
      await this.call(`apply ${report.kind} ${reportId(report)}`, () =>
        namespace
          ? this.custom.patchNamespacedCustomObject(
              { ...common, namespace, plural: api.namespaced.plural, fieldValidation: 'Strict' },
              options,
            )
          : this.custom.patchClusterCustomObject({ ...common, plural: api.cluster.plural, fieldValidation: 'Strict' }, options),
      );
      this.o.metrics?.reportWrites.inc({ verb });
      run[verb === 'create' ? 'created' : 'updated']++;
    } catch {
      run.failed++;
    }
  }

  private async delete(api: ReportApi, report: StoredReport, run: ReportRun): Promise<void> {
    const name = report.metadata?.name ?? '';
    const namespace = report.metadata?.namespace;
    const common = { group: api.group, version: api.version, name };
    try {
      await this.call(
        `delete ${report.kind} ${reportId(report)}`,
        () =>
          namespace
            ? this.custom.deleteNamespacedCustomObject({ ...common, namespace, plural: api.namespaced.plural })
            : this.custom.deleteClusterCustomObject({ ...common, plural: api.cluster.plural }),
        // Already gone: what the delete was for.
        ['not_found'],
      );
      this.o.metrics?.reportWrites.inc({ verb: 'delete' });
      run.deleted++;
    } catch {
      run.failed++;
    }
  }
}
