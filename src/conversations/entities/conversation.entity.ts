import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type ConversationStatus = 'open' | 'closed';

/** The ticket fields a route sets (the connector contract's TicketRouting, as stored). */
export interface TicketRoutingColumn {
  group?: string;
  priority?: string;
  tags?: string[];
  assignee?: string;
  /** Tags of the routes it left, to take off the ticket. */
  removeTags?: string[];
}

/** One thread between a customer and one business number; at most one is open per pair. */
@Entity('conversations')
export class ConversationEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'contact_id', type: 'uuid' }) contactId: string;
  @Column({ name: 'phone_number_id', type: 'text' }) phoneNumberId: string;
  @Column({ name: 'display_phone_number', type: 'text', nullable: true }) displayPhoneNumber: string | null;
  @Column({ type: 'text' }) status: ConversationStatus;
  @Column({ name: 'opened_at', type: 'timestamptz' }) openedAt: Date;
  @Column({ name: 'last_message_at', type: 'timestamptz', nullable: true }) lastMessageAt: Date | null;
  /** WhatsApp's own timestamp of the customer's latest message: the 24-hour window starts here. */
  @Column({ name: 'last_inbound_at', type: 'timestamptz', nullable: true }) lastInboundAt: Date | null;
  @Column({ name: 'first_response_at', type: 'timestamptz', nullable: true }) firstResponseAt: Date | null;
  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true }) resolvedAt: Date | null;
  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true }) closedAt: Date | null;
  /** The service policy's route for it (src/service-policy), once known; null: none applied. */
  @Column({ type: 'text', nullable: true }) route: string | null;
  /** The route's connections: only these receive its further messages. Null: every connection. */
  @Column({ name: 'route_connections', type: 'uuid', array: true, nullable: true }) routeConnections: string[] | null;
  /** What the route asks of a helpdesk ticket (group, priority, tags, assignee). */
  @Column({ name: 'ticket_routing', type: 'jsonb', nullable: true }) ticketRouting: TicketRoutingColumn | null;
  /** Counts route changes: each change's ticket updates are tasks of their own. */
  @Column({ name: 'route_version', type: 'integer', default: 0 }) routeVersion: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
