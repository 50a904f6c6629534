/**
 * Self-managed certificates (`serve --manage-certs`), as Gatekeeper's
 * cert-controller does: the webhook keeps its CA and serving certificate in a
 * Secret of its own namespace, renews them before they expire, and writes the
 * CA bundle into its two webhook configurations.
 *
 * Safe with several replicas through optimistic concurrency: every write
 * carries the `resourceVersion` it read, so when two replicas race, one write
 * wins and the other gets 409 Conflict, re-reads and adopts the winner's
 * certificates instead of making its own.
 *
 * Rotation never breaks trust: a new serving certificate is signed by the
 * current CA (the `caBundle` does not change); a new CA is published in the
 * bundle next to the old one (`ca-bundle.crt` holds both) before any replica
 * serves a certificate it signed.
 *
 * Secret keys: `ca.crt`, `ca.key`, `tls.crt`, `tls.key`, `ca-bundle.crt`.
 */
import { X509Certificate } from 'node:crypto';
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1MutatingWebhookConfiguration,
  type V1Secret,
  type V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import type { Logger } from '../log/logger.js';
import { caBundleOf, generateCA, issueServingCertificate, type CertificateAuthority } from './generate.js';
import { apiStatus } from '../kube/api-status.js';

export interface CertManagerOptions {
  namespace: string;
  secretName: string;
  service: string;
  /** Names of the ValidatingWebhookConfiguration and MutatingWebhookConfiguration to keep the caBundle of. */
  validatingWebhook: string;
  mutatingWebhook: string;
  /** Validity of new certificates, days. */
  validityDays: number;
  /** Renew a certificate this many days before it expires. */
  renewBeforeDays: number;
  now?: () => Date;
}

/** The certificates as the Secret holds them (PEM). */
export interface ManagedCertificates {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
  /** Every CA the kube-apiserver must trust: the current one, and the previous one during a CA rotation. */
  caBundle: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? '' : Buffer.from(s, 'base64').toString('utf-8'));
const notAfter = (pem: string) => new Date(new X509Certificate(pem).validTo).getTime();

function fromSecret(secret: V1Secret): ManagedCertificates | undefined {
  const d = secret.data ?? {};
  const certs = {
    caCert: unb64(d['ca.crt']),
    caKey: unb64(d['ca.key']),
    cert: unb64(d['tls.crt']),
    key: unb64(d['tls.key']),
    caBundle: unb64(d['ca-bundle.crt']),
  };
  if (!certs.caCert || !certs.caKey || !certs.cert || !certs.key) return undefined;
  return { ...certs, caBundle: certs.caBundle || certs.caCert };
}

function toData(c: ManagedCertificates): Record<string, string> {
  return {
    'ca.crt': b64(c.caCert),
    'ca.key': b64(c.caKey),
    'tls.crt': b64(c.cert),
    'tls.key': b64(c.key),
    'ca-bundle.crt': b64(c.caBundle),
  };
}

type WebhookConfiguration = V1ValidatingWebhookConfiguration | V1MutatingWebhookConfiguration;

interface WebhookConfigurationAccess {
  name: string;
  read(name: string): Promise<WebhookConfiguration>;
  replace(name: string, body: WebhookConfiguration): Promise<unknown>;
}

export class CertManager {
  private readonly core: CoreV1Api;
  private readonly admission: AdmissionregistrationV1Api;

  constructor(
    kc: KubeConfig,
    private readonly opts: CertManagerOptions,
    private readonly log: Logger,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.admission = kc.makeApiClient(AdmissionregistrationV1Api);
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private dueForRenewal(pem: string): boolean {
    return notAfter(pem) - this.now().getTime() < this.opts.renewBeforeDays * 86_400_000;
  }

  /** New certificates: a new serving certificate, and a new CA too when `authority` is missing or due. */
  private renew(current: ManagedCertificates | undefined): ManagedCertificates {
    const certOpts = { service: this.opts.service, namespace: this.opts.namespace, validityDays: this.opts.validityDays, now: this.now() };
    let authority: CertificateAuthority | undefined = current && { caCert: current.caCert, caKey: current.caKey };
    let caBundle = current?.caBundle ?? '';
    if (!authority || this.dueForRenewal(authority.caCert)) {
      // The CA lives twice as long as the certificates it signs, so it is renewed half as often.
      const next = generateCA({ ...certOpts, validityDays: this.opts.validityDays * 2 });
      caBundle = authority ? next.caCert + authority.caCert : next.caCert;
      authority = next;
    }
    const issued = issueServingCertificate(authority, certOpts);
    return { caCert: issued.caCert, caKey: issued.caKey, cert: issued.cert, key: issued.key, caBundle };
  }

  /**
   * Makes the Secret hold valid certificates (creating or renewing them) and
   * returns them. Concurrent replicas converge on one Secret.
   */
  async ensureSecret(): Promise<ManagedCertificates> {
    const { namespace, secretName: name } = this.opts;
    for (let attempt = 0; attempt < 5; attempt++) {
      let secret: V1Secret | undefined;
      try {
        secret = await this.core.readNamespacedSecret({ name, namespace });
      } catch (err) {
        if (apiStatus(err) !== 404) throw err;
      }
      const current = secret && fromSecret(secret);
      if (current && !this.dueForRenewal(current.cert) && !this.dueForRenewal(current.caCert)) return current;
      const next = this.renew(current);
      try {
        if (!secret) {
          await this.core.createNamespacedSecret({
            namespace,
            body: { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data: toData(next) },
          });
          this.log.info({ secret: `${namespace}/${name}` }, 'created the webhook CA and serving certificate');
        } else {
          // resourceVersion makes this a compare-and-swap: a concurrent writer gets 409 Conflict.
          await this.core.replaceNamespacedSecret({ name, namespace, body: { ...secret, data: toData(next) } });
          this.log.info({ secret: `${namespace}/${name}`, newCA: next.caCert !== current?.caCert }, 'renewed the webhook certificates');
        }
        return next;
      } catch (err) {
        if (apiStatus(err) !== 409) throw err;
        // Another replica wrote first: read again and adopt its certificates.
      }
    }
    throw new Error(`could not settle Secret ${namespace}/${name} after 5 conflicting writes`);
  }

  /** Writes `caBundle` into every webhook of both configurations that does not have it yet. */
  async ensureCaBundle(caBundle: string): Promise<void> {
    const bundle = caBundleOf(caBundle);
    const kinds: WebhookConfigurationAccess[] = [
      {
        name: this.opts.validatingWebhook,
        read: (name) => this.admission.readValidatingWebhookConfiguration({ name }),
        replace: (name, body) =>
          this.admission.replaceValidatingWebhookConfiguration({ name, body: body as V1ValidatingWebhookConfiguration }),
      },
      {
        name: this.opts.mutatingWebhook,
        read: (name) => this.admission.readMutatingWebhookConfiguration({ name }),
        replace: (name, body) => this.admission.replaceMutatingWebhookConfiguration({ name, body: body as V1MutatingWebhookConfiguration }),
      },
    ];
    for (const k of kinds) {
      for (let attempt = 0; ; attempt++) {
        let config: WebhookConfiguration;
        try {
          config = await k.read(k.name);
        } catch (err) {
          if (apiStatus(err) === 404) {
            this.log.warn({ webhookConfiguration: k.name }, 'webhook configuration not found; caBundle not written');
            break;
          }
          throw err;
        }
        const stale = (config.webhooks ?? []).filter((w) => w.clientConfig.caBundle !== bundle);
        if (stale.length === 0) break;
        for (const w of stale) w.clientConfig.caBundle = bundle;
        try {
          // The read resourceVersion travels with the body: a concurrent update makes this 409.
          await k.replace(k.name, config);
          this.log.info({ webhookConfiguration: k.name, webhooks: stale.map((w) => w.name) }, 'caBundle updated');
          break;
        } catch (err) {
          if (apiStatus(err) !== 409 || attempt >= 4) throw err;
        }
      }
    }
  }

  /** One pass: certificates in the Secret, caBundle in the configurations. */
  async reconcile(): Promise<ManagedCertificates> {
    const certs = await this.ensureSecret();
    await this.ensureCaBundle(certs.caBundle);
    return certs;
  }

  /**
   * Reconciles every `intervalMs` and calls `install` when the serving
   * certificate changed (this replica's renewal or another's). A certificate
   * signed by a CA that was not yet in the bundle at the previous pass is
   * installed one pass later, so the kube-apiserver has had `intervalMs` to
   * load the new caBundle before any replica presents it. Returns a stop function.
   */
  watch(first: ManagedCertificates, intervalMs: number, install: (certs: ManagedCertificates) => void): () => void {
    let installed = first.cert;
    let trusted = first.caBundle;
    const timer = setInterval(() => {
      this.reconcile()
        .then((certs) => {
          const caWasTrusted = trusted.includes(certs.caCert.trim());
          trusted = certs.caBundle;
          if (certs.cert === installed) return;
          if (!caWasTrusted) {
            this.log.info({}, 'new CA published in the caBundle; its serving certificate is installed at the next pass');
            return;
          }
          installed = certs.cert;
          install(certs);
        })
        .catch((err) => this.log.error({ err: (err as Error).message }, 'certificate reconcile failed; retrying at the next interval'));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
