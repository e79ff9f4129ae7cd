// The three-controller managed-etcd failover scenario (test/e2e/ha-etcd.scenario.ts): run
// with `npm run test:ha`. Kept out of `npm test` until scaling after a failover completes
// reliably; the ha-etcd acceptance check and the store conformance suite cover the rest.
export default {
  files: ['dist/test/e2e/ha-etcd.scenario.js'],
  timeout: '15m',
  workerThreads: false,
};
