import { Module } from '@nestjs/common';
import { AccessControlModule } from '../admin/access-control.module';
import { ConsoleGuard } from './console.guard';
import { ConsoleSessionsRepository } from './console-sessions.repository';
import { ConsoleSessionsService } from './console-sessions.service';

/** What every console page needs: sessions and the guard (shared by the console's pages and the sandbox phone). */
@Module({
  imports: [AccessControlModule],
  providers: [ConsoleSessionsRepository, ConsoleSessionsService, ConsoleGuard],
  exports: [ConsoleSessionsService, ConsoleGuard, AccessControlModule],
})
export class ConsoleCoreModule {}
