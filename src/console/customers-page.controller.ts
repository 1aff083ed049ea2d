import { Body, Controller, Get, Header, Inject, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { RequirePermission } from '../admin/access.decorators';
import { roleAllows } from '../admin/permissions';
import { ConsentService } from '../consent/consent.service';
import { ContactsRepository } from '../contacts/contacts.repository';
import type { ContactEntity } from '../contacts/entities/contact.entity';
import { ErasureService } from '../privacy/erasure.service';
import { ExportService } from '../privacy/export.service';
import { ContactNotFoundError, ErasureNotFoundError } from '../privacy/privacy.errors';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { type ConsoleRequest, ConsoleGuard } from './console.guard';
import { CustomersPageRepository } from './customers-page.repository';
import { renderCustomerPage, renderCustomersPage, renderErasePage, renderErasurePage } from './customers-page.view';
import { notice, page } from './layout';
import { queuesMenu } from './queues';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHOWN = 50;

/** A page answered through @Res() (where @Header does not apply). */
function send(res: Response, body: string, status = 200): void {
  res.status(status).type('html').setHeader('cache-control', 'no-store');
  res.send(body);
}

/**
 * Customers: search by phone or name; one customer's consent ledger and state, the export of
 * everything held about them (the API's export, audited), and erasure behind a confirmation
 * (typing their phone number), followed by its receipts per system.
 */
@ApiExcludeController()
@UseFilters(ConsoleExceptionFilter)
@UseGuards(ConsoleGuard)
@Controller('console/customers')
export class CustomersPageController {
  constructor(
    private readonly search: CustomersPageRepository,
    private readonly contacts: ContactsRepository,
    private readonly consent: ConsentService,
    private readonly exports: ExportService,
    private readonly erasures: ErasureService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @RequirePermission('contacts:read')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  async list(@Req() req: Request, @Query('q') q?: string): Promise<string> {
    const query = typeof q === 'string' ? q.slice(0, 100) : '';
    const customers = await this.search.search(query, SHOWN);
    return this.page(req, 'Customers', renderCustomersPage({ query, customers }));
  }

  @Get('erasures/:erasureId')
  @RequirePermission('contacts:read')
  async erasure(@Req() req: Request, @Res() res: Response, @Param('erasureId') erasureId: string): Promise<void> {
    try {
      const erasure = await this.erasures.get(erasureId);
      send(res, this.page(req, 'Erasure', renderErasurePage(erasure)));
    } catch (error) {
      if (!(error instanceof ErasureNotFoundError)) throw error;
      send(res, notice(req as ConsoleRequest, 'Not found', 'No erasure with this id.'), 404);
    }
  }

  @Get(':id')
  @RequirePermission('contacts:read')
  async customer(@Req() req: Request, @Res() res: Response, @Param('id') id: string): Promise<void> {
    const contact = await this.find(id);
    if (!contact) return this.notFound(req, res);
    const role = (req as ConsoleRequest).consoleSession.principal.role;
    const consent = roleAllows(role, 'consent:read') ? await this.consent.ledger(contact.id) : null;
    send(
      res,
      this.page(
        req,
        contact.profileName ?? contact.e164,
        renderCustomerPage({
          contact,
          consent,
          canExport: roleAllows(role, 'contacts:export'),
          canErase: roleAllows(role, 'contacts:erase'),
          csrfToken: (req as ConsoleRequest).consoleSession.csrfToken,
        }),
      ),
    );
  }

  /**
   * The export as a download: the same document as GET /api/v1/contacts/:id/export. A form post
   * (with the CSRF token) rather than a link, so it is audited like the API's export.
   */
  @Post(':id/export')
  @RequirePermission('contacts:export')
  async export(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const document = await this.exports.exportContact(id);
      res.setHeader('cache-control', 'no-store');
      res.setHeader('content-disposition', `attachment; filename="contact-${id}.json"`);
      res.status(200).type('application/json').send(JSON.stringify(document, null, 2));
    } catch (error) {
      if (!(error instanceof ContactNotFoundError)) throw error;
      this.notFound(req, res);
    }
  }

  @Get(':id/erase')
  @RequirePermission('contacts:erase')
  async confirmErase(@Req() req: Request, @Res() res: Response, @Param('id') id: string, @Query('mismatch') mismatch?: string): Promise<void> {
    const contact = await this.find(id);
    if (!contact) return this.notFound(req, res);
    send(res, this.page(req, 'Erase customer', renderErasePage({ contact, csrfToken: (req as ConsoleRequest).consoleSession.csrfToken, mismatch: mismatch === '1' })));
  }

  /** Erases once the operator typed the customer's phone number (any formatting of its digits). */
  @Post(':id/erase')
  @RequirePermission('contacts:erase')
  async erase(@Param('id') id: string, @Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const contact = await this.find(id);
    if (!contact) return this.notFound(req, res);
    const typed = typeof body.confirm === 'string' ? body.confirm.replace(/\D/g, '') : '';
    if (typed !== contact.waId) {
      res.redirect(303, `/console/customers/${contact.id}/erase?mismatch=1`);
      return;
    }
    try {
      const erasure = await this.erasures.erase(contact.id);
      res.redirect(303, `/console/customers/erasures/${erasure.id}`);
    } catch (error) {
      // Erased meanwhile (another operator, the API).
      if (!(error instanceof ContactNotFoundError)) throw error;
      this.notFound(req, res);
    }
  }

  private async find(id: string): Promise<ContactEntity | null> {
    return UUID.test(id) ? this.contacts.findById(id) : null;
  }

  private notFound(req: Request, res: Response): void {
    send(res, notice(req as ConsoleRequest, 'Not found', 'No such customer (or they were erased).'), 404);
  }

  private page(req: Request, title: string, body: ReturnType<typeof renderCustomersPage>): string {
    return page(req as ConsoleRequest, { title, body, extraSections: queuesMenu(this.config) });
  }
}
