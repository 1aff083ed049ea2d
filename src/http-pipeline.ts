import { type INestApplication, ValidationPipe } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { pinoHttp } from 'pino-http';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/configuration';
import { ROLE_PERMISSIONS, ROLES } from './admin/permissions';
import { asOpenApi31, ErrorResponse, webhooksSection } from './common/api-docs';
import { ConnectorRegistry } from './connections/connector-registry';
import { AppExceptionFilter } from './common/exception.filter';
import { RateLimiter } from './rate-limit/rate-limiter';
import { WebhookAckDto } from './whatsapp/dto/webhook-ack.dto';
import { WEBHOOK_PATH, webhookReceiverOperation, WhatsAppWebhookReceiver } from './whatsapp/whatsapp-webhook.receiver';

/** The docs' front page: what the API is, and who may call what (src/admin/permissions.ts). */
const API_DESCRIPTION = [
  'Operator API: WhatsApp conversations kept in step with CRMs and helpdesks.',
  '',
  'Every call needs an API key (`Authorization: Bearer <key>`): a missing, unknown or revoked key gets 401, a role without the permission an operation names (`x-permission`) gets 403.',
  'Keys have one role:',
  '',
  '| role | may |',
  '|---|---|',
  ...ROLES.map((role) => `| ${role} | ${role === 'admin' ? 'everything' : ROLE_PERMISSIONS[role].join(', ')} |`),
  '',
  'ADMIN_API_KEY (or the key generated into DATA_DIR) is an admin key named env-admin. Changes and exports are written to the audit log (GET /api/v1/audit).',
].join('\n');

/** Probes and scrapes come every few seconds: logged at debug so they do not drown the rest. */
function probeLevel(req: { url?: string }): 'info' | 'debug' {
  return req.url?.startsWith('/health') || req.url === '/metrics' ? 'debug' : 'info';
}

/** HTTP plumbing shared by the service, the tests and the benchmarks. */
export function configureApp(app: INestApplication, config: AppConfig, logger: Logger): void {
  // Behind a reverse proxy the client's address (rate limits, audit) and scheme come from its
  // X-Forwarded-* headers, believed only from the peers TRUST_PROXY names.
  if (config.trustProxy !== undefined) (app.getHttpAdapter().getInstance() as express.Application).set('trust proxy', config.trustProxy);
  if (config.role === 'worker') {
    // A worker process answers only its probes; webhooks and the API belong to ROLE=api|all.
    app.use((req: Request, res: Response, next: NextFunction) =>
      req.path.startsWith('/health') || req.path === '/metrics' ? next() : res.status(404).json({ statusCode: 404, message: 'this process runs workers only' }),
    );
  }

  // One line per request: method, route pattern (never the URL, whose query may hold a phone
  // number), status, duration and a request id (the proxy's X-Request-Id when it sends one). No
  // bodies, no headers. WhatsApp webhooks are answered before Express and count their own outcomes.
  app.use(
    pinoHttp({
      logger,
      genReqId: (req) => {
        const given = req.headers['x-request-id'];
        return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
      },
      serializers: { req: (req: { id: unknown; method: string }) => ({ id: req.id, method: req.method }), res: (res: { statusCode: number }) => ({ status: res.statusCode }) },
      customProps: (req) => {
        const r = req as Request;
        return { route: r.route?.path ? `${r.baseUrl}${String(r.route.path)}` : undefined };
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : probeLevel(_req)),
      customSuccessMessage: () => 'request',
      customErrorMessage: () => 'request failed',
    }),
  );

  // Limits per API key and per client address, before any body is read (webhooks and probes pass).
  if (config.role !== 'worker') app.use(app.get(RateLimiter).middleware());

  // Connection webhooks are verified over their exact bytes, so they are kept raw. The limit is
  // checked against Content-Length before reading, and while streaming for chunked bodies.
  app.use('/webhooks', express.raw({ type: () => true, limit: config.whatsapp.webhookBodyLimit }));
  // The console's forms post urlencoded fields (no script needed).
  app.use('/console', express.urlencoded({ extended: false, limit: '64kb' }));
  app.use(express.json({ limit: '1mb' }));
  app.use((err: { type?: string; status?: number } & Error, _req: Request, res: Response, next: NextFunction) => {
    if (err.type === 'entity.too.large') return res.status(413).json({ statusCode: 413, message: 'body too large' });
    if (err.type === 'entity.parse.failed') return res.status(400).json({ statusCode: 400, message: 'body is not valid JSON' });
    if (err.status && err.status < 500) return res.status(err.status).json({ statusCode: err.status, message: 'bad request' });
    return next(err);
  });
  // WhatsApp notifications are answered before Express sees them (see WhatsAppWebhookReceiver
  // for why): the receiver goes in front of Express on the HTTP server. Workers never receive
  // webhooks: the role filter above answers them.
  if (config.role !== 'worker') {
    const receiver = app.get(WhatsAppWebhookReceiver);
    const server: Server = app.getHttpServer();
    const [expressApp] = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => (receiver.accepts(req) ? receiver.handle(req, res) : expressApp(req, res)));
  }

  app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }));
  app.useGlobalFilters(new AppExceptionFilter(logger));
  // No enableShutdownHooks(): Nest's own signal handler awaits app.close() with no deadline, which
  // never ends while Redis is unreachable. main.ts handles SIGTERM/SIGINT with a deadline instead.

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('threadbridge')
      .setDescription(API_DESCRIPTION)
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key: ADMIN_API_KEY (admin), or one created with POST /api/v1/api-keys' })
      .build(),
    {
      extraModels: [ErrorResponse, WebhookAckDto],
      // `Connections_list` rather than `ConnectionsController_list`: the names a generated client's methods get.
      operationIdFactory: (controllerKey, methodKey) => `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
    },
  );
  // The WhatsApp receiver runs before Nest's router, so the document learns of it here.
  document.paths[WEBHOOK_PATH] = { ...document.paths[WEBHOOK_PATH], post: webhookReceiverOperation({ ack: WebhookAckDto.name, error: ErrorResponse.name }) };
  // The events connectors send (a webhook connector's deliveries) are OpenAPI 3.1 `webhooks`.
  const events = app
    .get(ConnectorRegistry)
    .list()
    .filter((definition) => definition.events?.length)
    .map((definition) => ({ id: definition.manifest.id, name: definition.manifest.displayName, events: definition.events ?? [] }));
  SwaggerModule.setup('docs', app, { ...asOpenApi31(document), webhooks: webhooksSection(events) } as unknown as typeof document);
}
