/**
 * The medium test tier: the real Nest providers of the features (sync engine, reply router,
 * privacy, consent, ingest) on a real Postgres database of their own, with the in-memory FakeCrm
 * registered in place of connectors/index.ts's list. No HTTP server, no Redis (the outbox is the
 * queue, as in embedded mode), no worker loop: a test runs the due tasks itself with runDueTasks(),
 * so what happened is decided by the test, not by timing.
 *
 *   const t = await startMediumTest();
 *   const connection = await t.connectFakeCrm();
 *   await t.ingest(aTextMessageWebhook({ text: 'hello' }));
 *   await t.runDueTasks();
 *   expect(t.crm.timeline.map((r) => r.text)).toEqual(['hello']);
 */
import 'reflect-metadata';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import * as fs from 'node:fs';
import { DataSource } from 'typeorm';
import { FAKE_CRM_ID, FAKE_CRM_TOKEN, FAKE_CRM_WEBHOOK_SECRET, FakeCrm } from '../../connectors/_sdk/testing/fake-crm.connector';
import { APP_CONFIG, type AppConfig, loadConfig } from '../../config/configuration';
import { EgressPolicy } from '../../src/common/egress';
import { createLogger, LOGGER } from '../../src/common/logger';
import { DirectoryMediaStore, MediaStore } from '../../src/common/media-store';
import { type ConnectionView, ConnectionsService } from '../../src/connections/connections.service';
import { CONNECTION_ENV } from '../../src/connections/declared-connections';
import { CONNECTOR_DEFINITIONS } from '../../src/connections/connector-registry';
import { ConsentModule } from '../../src/consent/consent.module';
import { createDataSource } from '../../src/data-source';
import { DatabaseModule } from '../../src/database/database.module';
import { HealthModule } from '../../src/health/health.module';
import { ErasureHandler } from '../../src/privacy/erasure.handler';
import { PrivacyModule } from '../../src/privacy/privacy.module';
import { RepliesModule } from '../../src/replies/replies.module';
import { ReplyRouteHandler } from '../../src/replies/reply-route.handler';
import { ReplyStatusHandler } from '../../src/replies/reply-status.handler';
import { ConsentSyncHandler } from '../../src/sync/consent-sync.handler';
import { CrmSyncHandler } from '../../src/sync/crm-sync.handler';
import { SyncModule } from '../../src/sync/sync.module';
import { OutboxRepository } from '../../src/tasks/outbox.repository';
import { QueueModule } from '../../src/tasks/queue.module';
import { QueueName } from '../../src/tasks/queues';
import { TASK_HANDLERS, type TaskHandler } from '../../src/tasks/task-handler';
import { TaskRunner } from '../../src/tasks/task-runner.service';
import { ConsentKeywordHandler } from '../../src/whatsapp/consent-keyword.handler';
import { OutboundModule } from '../../src/whatsapp/outbound/outbound.module';
import { WebhookIngestService } from '../../src/whatsapp/webhook-ingest.service';
import { WhatsappModule } from '../../src/whatsapp/whatsapp.module';
import { WEBHOOK_DEFAULTS, type WhatsAppWebhookPayload } from '../factories/whatsapp-webhook.factory';
import { createTestDatabase, type TestDatabase } from './test-database';
import { tempDir } from './test-service';

/**
 * The handlers a medium test runs. Not the WhatsApp sends (they would call the Cloud API) nor the
 * media downloads: an outbound message stays `queued`, which is what the reply router promises.
 */
const HANDLERS = [CrmSyncHandler, ConsentSyncHandler, ErasureHandler, ReplyRouteHandler, ReplyStatusHandler, ConsentKeywordHandler];

/** What the composition root's CoreModule provides, for a test: config, logger, egress, media, env. */
@Global()
@Module({})
class MediumCoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: MediumCoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: LOGGER, useValue: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', redact: true }) },
        { provide: EgressPolicy, useValue: new EgressPolicy(config.egressAllow) },
        { provide: MediaStore, useValue: new DirectoryMediaStore(config.media.dir) },
        { provide: CONNECTION_ENV, useValue: {} },
      ],
      exports: [APP_CONFIG, LOGGER, EgressPolicy, MediaStore, CONNECTION_ENV],
    };
  }
}

@Module({})
class MediumWorkersModule {
  static forRoot(): DynamicModule {
    return {
      module: MediumWorkersModule,
      imports: [SyncModule, PrivacyModule, RepliesModule, OutboundModule],
      providers: [{ provide: TASK_HANDLERS, useFactory: (...handlers: TaskHandler[]) => handlers, inject: HANDLERS }, TaskRunner],
      exports: [TaskRunner],
    };
  }
}

export interface MediumTest {
  app: TestingModule;
  db: DataSource;
  crm: FakeCrm;
  config: AppConfig;
  /** A provider of the module (a service under test). */
  get<T>(type: abstract new (...args: never[]) => T): T;
  /** Creates a connection of the fake CRM through ConnectionsService (its credentials checked by the fake). */
  connectFakeCrm(name?: string): Promise<ConnectionView>;
  /** Stores a WhatsApp webhook delivery as the receiver does after checking its signature. */
  ingest(payload: WhatsAppWebhookPayload): Promise<void>;
  /**
   * Runs every task that is due now (in the order the poller would claim them), again and again
   * while running them makes more due; returns how many ran. Tasks rescheduled for later stay.
   */
  runDueTasks(queues?: QueueName[]): Promise<number>;
  /** Makes every pending task of these queues due now (time passing without the wait). */
  makeDue(queues?: QueueName[]): Promise<void>;
  close(): Promise<void>;
}

/** A fresh database (cloned from the migrated template) and the feature providers on it. */
export async function startMediumTest(options: { env?: Record<string, string> } = {}): Promise<MediumTest> {
  const database: TestDatabase = await createTestDatabase();
  const dataDir = tempDir('threadbridge-medium-');
  const config = loadConfig({
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    DB_POOL_SIZE: '4',
    ENCRYPTION_KEY: 'ab'.repeat(32),
    WHATSAPP_APP_SECRET: 'test-app-secret',
    WHATSAPP_ACCESS_TOKEN: 'test-token',
    WHATSAPP_PHONE_NUMBER_ID: WEBHOOK_DEFAULTS.phoneNumberId,
    ...options.env,
  });
  const crm = new FakeCrm();
  let app: TestingModule | undefined;
  try {
    app = await Test.createTestingModule({
      imports: [
        MediumCoreModule.forRoot(config),
        DatabaseModule.forRoot(() => createDataSource(database.url, config.dbPoolSize)),
        QueueModule.forRoot(config),
        HealthModule,
        WhatsappModule,
        ConsentModule,
        MediumWorkersModule.forRoot(),
      ],
    })
      .overrideProvider(CONNECTOR_DEFINITIONS)
      .useValue([crm.definition])
      .compile();
    await app.init();
  } catch (error) {
    await app?.close();
    await database.drop();
    throw error;
  }
  const testing = app;
  const db = testing.get(DataSource);
  const runner = testing.get(TaskRunner);
  const outbox = testing.get(OutboxRepository);
  const allQueues = () => runner.queues;

  return {
    app: testing,
    db,
    crm,
    config,
    get: (type) => testing.get(type, { strict: false }),
    connectFakeCrm: (name = 'fake crm') =>
      testing.get(ConnectionsService).create({ connectorId: FAKE_CRM_ID, name, credentials: { token: FAKE_CRM_TOKEN, webhookSecret: FAKE_CRM_WEBHOOK_SECRET } }),
    async ingest(payload) {
      await testing.get(WebhookIngestService).ingest(Buffer.from(JSON.stringify(payload)));
    },
    async runDueTasks(queues = allQueues()) {
      let ran = 0;
      for (let round = 0; round < 50; round++) {
        const claimedAt = Date.now();
        const tasks = await outbox.claimDue(20, runner.leaseDurationMs, queues);
        if (tasks.length === 0) return ran;
        // One at a time, as a single worker would: the order of effects is the test's to read.
        for (const task of tasks) await runner.execute(task, claimedAt);
        ran += tasks.length;
      }
      throw new Error('runDueTasks: tasks keep becoming due (50 rounds); a handler loops');
    },
    async makeDue(queues = allQueues()) {
      await db.query(`UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending' AND queue = ANY($1)`, [queues]);
    },
    async close() {
      await testing.close();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
