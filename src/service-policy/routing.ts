import type { TicketRoutingColumn } from '../conversations/entities/conversation.entity';
import type { ServicePolicy } from './policy-document';

/**
 * What a route asks of a conversation's helpdesk ticket, as the conversation stores it: the
 * route's group, priority, assignee and tags, and the tags every other route of the policy sets
 * (`removeTags`), so moving a conversation from "returns" to "orders" takes the returns tag off
 * while the tags agents added themselves stay. Null when the route asks nothing of tickets.
 */
export function ticketRoutingOf(policy: ServicePolicy, route: string): TicketRoutingColumn | null {
  const ticket = policy.routing?.[route]?.ticket;
  const own = new Set(ticket?.tags ?? []);
  const others = Object.entries(policy.routing ?? {})
    .filter(([name]) => name !== route)
    .flatMap(([, def]) => def.ticket?.tags ?? [])
    .filter((tag) => !own.has(tag));
  const removeTags = [...new Set(others)].sort();
  const result: TicketRoutingColumn = {
    ...(ticket?.group ? { group: ticket.group } : {}),
    ...(ticket?.priority ? { priority: ticket.priority } : {}),
    ...(ticket?.assignee ? { assignee: ticket.assignee } : {}),
    ...(own.size ? { tags: [...own] } : {}),
    ...(removeTags.length ? { removeTags } : {}),
  };
  return Object.keys(result).length ? result : null;
}
