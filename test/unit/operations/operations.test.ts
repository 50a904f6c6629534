/**
 * The operations suites in one process: most of them start the real server,
 * whose imports (the Kubernetes client among them) cost more than the tests;
 * loading them once keeps the suite fast. Each suite can also run alone:
 * `node --import tsx --test test/unit/operations/<name>.suite.ts`.
 */
import './rule-modes.suite.js';
import './ratcheting.suite.js';
import './config-file.suite.js';
import './audit-trail.suite.js';
import './decision-log-failures.suite.js';
import './metrics.suite.js';
import './cert-reload.suite.js';
import './client-auth.suite.js';
import './side-ports.suite.js';
import './graceful-shutdown.suite.js';
import './audit.suite.js';
import './events.suite.js';
import './limits.suite.js';
