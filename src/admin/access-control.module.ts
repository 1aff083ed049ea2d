import { Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { AccessGuard } from './access.guard';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/**
 * API keys with roles, the guard every route passes (authentication, permission) and the audit
 * log of the operator API. The guard and the audit interceptor apply to every controller.
 */
@Module({
  controllers: [ApiKeysController, AuditController],
  providers: [
    ApiKeysRepository,
    ApiKeysService,
    AuditRepository,
    AuditService,
    { provide: APP_GUARD, useClass: AccessGuard },
    { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
  ],
  exports: [ApiKeysService, AuditService],
})
export class AccessControlModule {}
