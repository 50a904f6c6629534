/**
 * The Event sink of a real cluster: `events.k8s.io/v1` create, and a JSON
 * merge patch of `series` for a repeat (client-node's EventsV1Api). Times are
 * written as MicroTime (RFC 3339 with six fractional digits), the format of
 * `eventTime` and `series.lastObservedTime`. A failed call rejects with
 * client-node's ApiException, whose `code` is the HTTP status.
 */
import { EventsV1Api, PatchStrategy, V1MicroTime, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { KubeEvent } from './kube-event.js';
import type { EventSink } from './recorder.js';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class KubeEventSink implements EventSink {
  private readonly api: EventsV1Api;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(EventsV1Api);
  }

  async create(e: KubeEvent): Promise<void> {
    await this.api.createNamespacedEvent({
      namespace: e.namespace,
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: e.name, namespace: e.namespace },
        regarding: e.regarding,
        reason: e.reason,
        action: e.action,
        note: e.note,
        type: e.type,
        reportingController: e.reportingController,
        reportingInstance: e.reportingInstance,
        eventTime: new V1MicroTime(e.eventTime),
        ...(e.series ? { series: { count: e.series.count, lastObservedTime: new V1MicroTime(e.series.lastObservedTime) } } : {}),
      },
    });
  }

  async patchSeries(namespace: string, name: string, series: { count: number; lastObservedTime: number }): Promise<void> {
    await this.api.patchNamespacedEvent(
      { namespace, name, body: { series: { count: series.count, lastObservedTime: new V1MicroTime(series.lastObservedTime) } } },
      MERGE_PATCH,
    );
  }
}
