/** Queue names. Each names a kind of background work; the outbox row's `queue` column holds it. */
export enum QueueName {
  /** Customer messages and transcripts to CRMs (drained per connection). */
  CrmSync = 'crm-sync',
  /** Media downloads from WhatsApp. */
  Media = 'media',
  /** Consent changes to CRMs that declare the consent capability. */
  ConsentSync = 'consent-sync',
  /** STOP/START keywords customers wrote: recorded in the consent ledger and confirmed. */
  ConsentKeyword = 'consent-keyword',
  /** Erasure fan-out to every connection that declares erasure. */
  Privacy = 'privacy',
  /** Messages to customers through the Cloud API (throughput-limited). */
  WhatsappOutbound = 'whatsapp-outbound',
  /** Agent replies that connected systems delivered by webhook, routed to WhatsApp (src/replies). */
  Replies = 'replies',
  /** What became of an agent's reply, told to the system it came from (src/replies). */
  ReplyStatus = 'reply-status',
  /** Customer messages the service policy answers (away, greeting, triage), and triage time-outs (src/service-policy). */
  ServicePolicy = 'service-policy',
}

export const ALL_QUEUES: QueueName[] = Object.values(QueueName);
