import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One call to the operator API that changed something or exported data: who, what, when, from
 * where. Never a request body (it may hold credentials): only the route pattern, its params and
 * the outcome.
 */
@Entity('audit_log')
export class AuditEntity {
  /** Ascending bigint (as text): the keyset of the log's pages. */
  @PrimaryColumn({ type: 'bigint' }) id: string;
  @Column({ type: 'timestamptz' }) at: Date;
  /** The api_keys row; null for the bootstrap key ('env-admin'). */
  @Column({ name: 'actor_key_id', type: 'uuid', nullable: true }) actorKeyId: string | null;
  @Column({ name: 'actor_name', type: 'text' }) actorName: string;
  @Column({ name: 'actor_role', type: 'text' }) actorRole: string;
  @Column({ type: 'text' }) method: string;
  /** The route pattern, e.g. /api/v1/connections/:id. */
  @Column({ type: 'text' }) route: string;
  /** The :id of the route, or the id a create returned. */
  @Column({ name: 'target_id', type: 'text', nullable: true }) targetId: string | null;
  @Column({ type: 'jsonb' }) params: Record<string, string>;
  /** The HTTP status answered (499: the client went away before the answer). */
  @Column({ type: 'smallint' }) status: number;
  @Column({ type: 'text', nullable: true }) ip: string | null;
  @Column({ name: 'user_agent', type: 'text', nullable: true }) userAgent: string | null;
}
