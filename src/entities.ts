import { ApiKeyEntity } from './admin/api-keys.entity';
import { AuditEntity } from './admin/audit.entity';
import { ConnectionEntity } from './connections/entities/connection.entity';
import { ContactEntity } from './contacts/entities/contact.entity';
import { ConversationEntity } from './conversations/entities/conversation.entity';
import { MessageEntity } from './conversations/entities/message.entity';
import { ErasureReceiptEntity } from './privacy/entities/erasure-receipt.entity';
import { ErasureRequestEntity } from './privacy/entities/erasure-request.entity';
import { RetentionStatEntity } from './privacy/entities/retention-stat.entity';
import { OutboxTaskEntity } from './tasks/entities/outbox-task.entity';
import { QuarantineEntity } from './whatsapp/entities/quarantine.entity';

/** Every entity, listed by hand so compiled code and tests see the same set. */
export const ENTITIES = [ContactEntity, ConversationEntity, MessageEntity, ConnectionEntity, OutboxTaskEntity, QuarantineEntity, ApiKeyEntity, AuditEntity, ErasureRequestEntity, ErasureReceiptEntity, RetentionStatEntity];
