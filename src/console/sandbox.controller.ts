import { Body, Controller, Get, Header, Inject, Param, Post, Query, Req, Res, UploadedFile, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { RequirePermission } from '../admin/access.decorators';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { type ConsoleRequest, ConsoleGuard } from './console.guard';
import { page } from './layout';
import type { UploadedPart } from './sandbox-graph.controller';
import { SandboxEnabledGuard } from './sandbox-enabled.guard';
import { type CustomerAction, SandboxService } from './sandbox.service';
import { freshSandboxNumber } from './sandbox.store';
import { chatFragment, sandboxBody } from './sandbox.view';

/** Meta's image limit. */
const MAX_PHOTO_BYTES = 5 * 1024 * 1024;
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
export const SANDBOX_SECTION = { path: '/console/sandbox', label: 'Sandbox phone' };

/** A wa_id from what was typed (+1 555 010 1234 → 15550101234), or undefined when it cannot be one. */
function waIdOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const digits = value.replace(/[\s()+\-.]/g, '');
  return /^[1-9]\d{7,14}$/.test(digits) ? digits : undefined;
}

const text = (value: unknown, max: number): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, max) : undefined);

/**
 * The sandbox phone, /console/sandbox: plays a WhatsApp customer against this service (see
 * SandboxService). Looking needs conversations:read (the chat shows what the service sent the
 * sandbox's customers). Acting as a customer needs conversations:write: a message opens a
 * conversation, stores a contact and is synced to every connected CRM or helpdesk, which is a
 * change an auditor (read-only by design) must not make; agents and admins may.
 */
@ApiExcludeController()
@UseFilters(ConsoleExceptionFilter)
@UseGuards(SandboxEnabledGuard, ConsoleGuard)
@Controller('console/sandbox')
export class SandboxController {
  constructor(
    private readonly sandbox: SandboxService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @RequirePermission('conversations:read')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  show(@Req() req: ConsoleRequest, @Query('wa') wa?: string, @Query('error') error?: string): string {
    const waId = waIdOf(wa);
    const others = this.sandbox.store.list();
    const customer = waId ? this.sandbox.store.customer(waId) : others[0];
    if (customer) this.sandbox.viewed(customer.waId);
    return page(req, {
      title: 'Sandbox phone',
      extraSections: [SANDBOX_SECTION],
      body: sandboxBody({
        csrf: req.consoleSession.csrfToken,
        customer,
        others,
        freshNumber: freshSandboxNumber(),
        fakeCloudApi: this.config.sandbox.fakeCloudApi,
        error: typeof error === 'string' ? error.slice(0, 200) : undefined,
      }),
    });
  }

  /** The chat alone, polled every 2 s by the page; the customer is looking, so what they received is read. */
  @Get('chat')
  @RequirePermission('conversations:read')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  chat(@Req() req: ConsoleRequest, @Query('wa') wa?: string): string {
    const waId = waIdOf(wa);
    const customer = waId ? this.sandbox.store.find(waId) : undefined;
    if (customer) this.sandbox.viewed(customer.waId);
    return chatFragment(customer, req.consoleSession.csrfToken).value;
  }

  /** Bytes of a photo or file either side sent (the phone shows them). */
  @Get('media/:id')
  @RequirePermission('conversations:read')
  media(@Param('id') id: string, @Res() res: Response): void {
    const media = this.sandbox.store.getMedia(id);
    if (!media) {
      res.status(404).type('text').send('not found');
      return;
    }
    res.status(200).type(media.mimeType).setHeader('cache-control', 'private, max-age=300');
    res.setHeader('x-content-type-options', 'nosniff');
    // A file the service sent is offered as a download, never rendered as a page of this origin.
    if (!media.mimeType.startsWith('image/')) res.setHeader('content-disposition', 'attachment');
    res.send(media.bytes);
  }

  @Post('customer')
  @RequirePermission('conversations:write')
  pick(@Body() body: Record<string, unknown>, @Res() res: Response): void {
    const waId = waIdOf(body.number);
    if (!waId) return this.back(res, undefined, 'That number is not a phone number in international form (8 to 15 digits, e.g. +1 555 010 1234).');
    this.sandbox.store.customer(waId, text(body.name, 100));
    this.back(res, waId);
  }

  @Post('text')
  @RequirePermission('conversations:write')
  async sendText(@Body() body: Record<string, unknown>, @Req() req: ConsoleRequest, @Res() res: Response): Promise<void> {
    const message = typeof body.text === 'string' && body.text.trim() !== '' ? body.text.slice(0, 4096) : undefined;
    await this.act(req, res, body.wa, message === undefined ? 'Write a message first.' : { kind: 'text', text: message });
  }

  @Post('location')
  @RequirePermission('conversations:write')
  async sendLocation(@Body() body: Record<string, unknown>, @Req() req: ConsoleRequest, @Res() res: Response): Promise<void> {
    const latitude = Number(body.latitude);
    const longitude = Number(body.longitude);
    const valid = body.latitude !== '' && body.longitude !== '' && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;
    await this.act(
      req,
      res,
      body.wa,
      valid ? { kind: 'location', latitude, longitude, name: text(body.placeName, 200), address: text(body.address, 500) } : 'Latitude is -90 to 90 and longitude -180 to 180.',
    );
  }

  @Post('photo')
  @RequirePermission('conversations:write')
  @UseInterceptors(FileInterceptor('photo', { limits: { fileSize: MAX_PHOTO_BYTES, files: 1 } }))
  async sendPhoto(@UploadedFile() file: UploadedPart | undefined, @Body() body: Record<string, unknown>, @Req() req: ConsoleRequest, @Res() res: Response): Promise<void> {
    const problem = !file || file.size === 0 ? 'Choose a photo first.' : !PHOTO_TYPES.has(file.mimetype) ? 'A photo is a JPEG, PNG or WebP file.' : undefined;
    await this.act(
      req,
      res,
      body?.wa,
      problem ?? { kind: 'image', bytes: file!.buffer, mimeType: file!.mimetype, caption: text(body?.caption, 1024), filename: file!.originalname },
    );
  }

  /** Tapping a menu's button (or a list's row): the interactive reply Meta delivers, naming the menu it answers. */
  @Post('button')
  @RequirePermission('conversations:write')
  async tap(@Body() body: Record<string, unknown>, @Req() req: ConsoleRequest, @Res() res: Response): Promise<void> {
    const replyTo = text(body.replyTo, 200);
    const id = text(body.id, 256);
    const title = text(body.title, 100);
    await this.act(req, res, body.wa, replyTo && id && title ? { kind: 'button', replyTo, id, title, list: body.list === '1' } : 'That button is not one of a menu.');
  }

  private async act(req: ConsoleRequest, res: Response, wa: unknown, action: CustomerAction | string): Promise<void> {
    const waId = waIdOf(wa);
    const htmx = req.headers['hx-request'] === 'true';
    if (!waId || typeof action === 'string') {
      const message = waId ? (action as string) : 'Pick a customer first.';
      // htmx swaps only 2xx answers: the chat comes back with the reason above it (messages are ours, not input).
      if (htmx) res.status(200).type('html').send(`<p class="bad" role="alert">${message}</p>${chatFragment(waId ? this.sandbox.store.find(waId) : undefined, req.consoleSession.csrfToken).value}`);
      else this.back(res, waId, message);
      return;
    }
    await this.sandbox.act(waId, this.sandbox.store.customer(waId).name, action);
    if (htmx) res.status(200).type('html').setHeader('cache-control', 'no-store').send(chatFragment(this.sandbox.store.find(waId), req.consoleSession.csrfToken).value);
    else this.back(res, waId);
  }

  private back(res: Response, waId: string | undefined, error?: string): void {
    const query = new URLSearchParams();
    if (waId) query.set('wa', waId);
    if (error) query.set('error', error);
    const qs = query.toString();
    res.redirect(303, `/console/sandbox${qs ? `?${qs}` : ''}`);
  }
}
