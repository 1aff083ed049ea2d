/** Queue names. Each names a kind of background work; the outbox row's `queue` column holds it. */
export enum QueueName {
  CrmSync = 'crm-sync',
  Media = 'media',
}

export const ALL_QUEUES: QueueName[] = Object.values(QueueName);

/** How long a claimed task is leased to its worker before another may take it over. */
export const DEFAULT_TASK_LEASE_MS = 120_000;
