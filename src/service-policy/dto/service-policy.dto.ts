import { ApiProperty } from '@nestjs/swagger';
import type { ServicePolicy } from '../policy-document';
import type { StoredPolicy } from '../service-policy.repository';
import { SERVICE_POLICY_EXAMPLE, SERVICE_POLICY_SCHEMA } from '../service-policy.schema';

/** A stored policy: the number it is for (or `default`), the document, who stored it and when. */
export class StoredPolicyDto implements StoredPolicy {
  @ApiProperty({ description: "A business number's WhatsApp phone number id, or `default`", example: '106540352242922' })
  phoneNumberId: string;
  @ApiProperty({ ...SERVICE_POLICY_SCHEMA, example: SERVICE_POLICY_EXAMPLE } as object)
  policy: ServicePolicy;
  @ApiProperty({ type: String, nullable: true, description: 'The API key name that stored it' })
  updatedBy: string | null;
  @ApiProperty()
  updatedAt: Date;
}
