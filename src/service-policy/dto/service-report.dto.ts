import { ApiProperty } from '@nestjs/swagger';
import type { Percentiles, ReportGroupBy, ServiceReportGroup, TriageFigures } from '../service-report';

export class PercentilesDto implements Percentiles {
  @ApiProperty({ type: Number, nullable: true, description: 'Seconds: the middle value, or the mean of the two middle ones' })
  median: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Seconds: nearest rank, the value at rank ⌈0.9 n⌉' })
  p90: number | null;
}

export class CalendarAndBusinessDto {
  @ApiProperty({ type: PercentilesDto })
  calendar: PercentilesDto;
  @ApiProperty({ type: PercentilesDto, nullable: true, description: 'Business hours only; null when no number of the group has a policy' })
  business: PercentilesDto | null;
}

export class SharesDto {
  @ApiProperty({ type: Number, nullable: true })
  calendar: number | null;
  @ApiProperty({ type: Number, nullable: true })
  business: number | null;
}

export class RepliesPerConversationDto {
  @ApiProperty()
  mean: number;
  @ApiProperty()
  median: number;
}

export class TriageFiguresDto implements TriageFigures {
  @ApiProperty({ description: 'Conversations that were shown the menu' })
  shown: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, description: 'Conversations per route chosen (an option or a keyword)' })
  chosen: Record<string, number>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, description: 'Asked for a person, by the step they were at (menu, or the route chosen before)' })
  askedForHuman: Record<string, number>;
  @ApiProperty({ description: 'Sent to the default route for not answering' })
  timedOut: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, description: 'Closed without an answer from a person, by their last step' })
  droppedOff: Record<string, number>;
}

export class ServiceReportGroupDto implements ServiceReportGroup {
  @ApiProperty({ description: 'The day (YYYY-MM-DD), number, route or connection id; `none` for no route / no connection' })
  key: string;
  @ApiProperty()
  conversations: number;
  @ApiProperty({ description: 'Conversations a person answered' })
  answered: number;
  @ApiProperty({ description: 'Conversations that closed' })
  resolved: number;
  @ApiProperty({ type: CalendarAndBusinessDto, description: 'First response time' })
  firstResponse: CalendarAndBusinessDto;
  @ApiProperty({ type: CalendarAndBusinessDto, description: 'Resolution time' })
  resolution: CalendarAndBusinessDto;
  @ApiProperty({ type: SharesDto, description: 'Share answered within 1 hour' })
  answeredWithin1h: SharesDto;
  @ApiProperty({ type: RepliesPerConversationDto })
  repliesPerConversation: RepliesPerConversationDto;
  @ApiProperty({ type: TriageFiguresDto })
  triage: TriageFiguresDto;
}

export class ServiceReportDto {
  @ApiProperty()
  from: Date;
  @ApiProperty()
  to: Date;
  @ApiProperty({ enum: ['day', 'number', 'route', 'connection'] })
  groupBy: ReportGroupBy;
  @ApiProperty({ type: [ServiceReportGroupDto] })
  groups: ServiceReportGroupDto[];
}
