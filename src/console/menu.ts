/** Entries this process offers besides the sections: the sandbox phone, Bull Board on Redis. */
export function processSections(config: { sandbox: { enabled: boolean }; redisUrl?: string }): { path: string; label: string }[] {
  return [...(config.sandbox.enabled ? [{ path: '/console/sandbox', label: 'Sandbox phone' }] : []), ...(config.redisUrl ? [{ path: '/console/queues', label: 'Queues' }] : [])];
}
