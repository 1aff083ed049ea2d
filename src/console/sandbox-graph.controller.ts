import { Controller, Delete, Get, Inject, Param, Post, Req, Res, UploadedFile, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiExcludeController } from '@nestjs/swagger';
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { safeEqual } from '../common/crypto';
import { SANDBOX_GRAPH_PATH } from './sandbox.setup';
import { SandboxFakeCloudApiGuard } from './sandbox-enabled.guard';
import { SandboxService } from './sandbox.service';

/** The largest file the fake takes (the sandbox keeps media in memory). */
const MAX_UPLOAD_BYTES = 16 * 1024 * 1024;
const MESSAGE_TYPES = new Set(['text', 'template', 'interactive', 'image', 'document', 'audio', 'video', 'sticker', 'location', 'reaction', 'contacts']);
const MEDIA_TYPES = new Set(['image', 'document', 'audio', 'video', 'sticker']);

/** The file part multer hands over (memory storage). */
export interface UploadedPart {
  buffer: Buffer;
  originalname: string;
  mimetype: string;
  size: number;
}

/** A Graph API error body, as Meta shapes it. */
function graphError(res: Response, status: number, code: number, message: string, extra: { subcode?: number; type?: string; details?: string } = {}): void {
  res.status(status).json({
    error: {
      message,
      type: extra.type ?? 'OAuthException',
      code,
      ...(extra.subcode !== undefined ? { error_subcode: extra.subcode } : {}),
      ...(extra.details !== undefined ? { error_data: { messaging_product: 'whatsapp', details: extra.details } } : {}),
      fbtrace_id: randomBytes(17).toString('base64url').slice(0, 23),
    },
  });
}

/**
 * The built-in fake WhatsApp Cloud API the service talks to when the sandbox is on and
 * WHATSAPP_API_URL is not set: sends (text, template, interactive, media by id), mark-as-read,
 * media upload, lookup, download and delete, with Meta's bearer-token check, `wamid.` ids and error
 * shapes. What it accepts lands on the sandbox customer's chat (SandboxService.received).
 * Not the console's: the service calls it with its access token, not a session.
 */
@ApiExcludeController()
@UseGuards(SandboxFakeCloudApiGuard)
@Controller(SANDBOX_GRAPH_PATH.slice(1))
export class SandboxGraphController {
  constructor(
    private readonly sandbox: SandboxService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private authorized(req: Request, res: Response): boolean {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const token = this.config.whatsapp.accessToken;
    if (match && token && safeEqual(match[1].trim(), token)) return true;
    res.setHeader('www-authenticate', 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token."');
    graphError(res, 401, 190, 'Invalid OAuth access token.');
    return false;
  }

  // Declared before ':version/:mediaId', which would otherwise take these two-segment paths.
  @Get('media-download/:token')
  download(@Param('token') token: string, @Req() req: Request, @Res() res: Response): void {
    if (!this.authorized(req, res)) return;
    const media = this.sandbox.store.download(token);
    if (!media) return graphError(res, 404, 100, 'The media URL has expired or does not exist. Retrieve a new URL.');
    res.status(200).type(media.mimeType).send(media.bytes);
  }

  @Post(':version/:phoneNumberId/messages')
  send(@Param('phoneNumberId') phoneNumberId: string, @Req() req: Request, @Res() res: Response): void {
    if (!this.authorized(req, res)) return;
    if (phoneNumberId !== this.sandbox.businessNumberId) {
      return graphError(res, 400, 100, `Unsupported post request. Object with ID '${phoneNumberId}' does not exist.`, { subcode: 33, type: 'GraphMethodException' });
    }
    const body = (req.body && typeof req.body === 'object' ? req.body : undefined) as Record<string, unknown> | undefined;
    if (!body) return graphError(res, 400, 100, '(#100) The request body is not valid JSON.');
    if (body.messaging_product !== 'whatsapp') return graphError(res, 400, 100, '(#100) Invalid parameter', { details: 'messaging_product must be "whatsapp"' });
    if (body.status === 'read') {
      if (typeof body.message_id !== 'string') return graphError(res, 400, 131008, '(#131008) Required parameter is missing', { details: 'message_id is required' });
      this.sandbox.markedRead(body.message_id);
      res.status(200).json({ success: true });
      return;
    }
    const to = typeof body.to === 'string' ? body.to.replace(/\D/g, '') : '';
    if (!to) return graphError(res, 400, 131008, '(#131008) Required parameter is missing', { details: 'to is required' });
    const type = typeof body.type === 'string' ? body.type : 'text';
    if (!MESSAGE_TYPES.has(type)) return graphError(res, 400, 131009, '(#131009) Parameter value is not valid', { details: `type ${type} is not supported` });
    const payload = body[type] as Record<string, unknown> | undefined;
    if (!payload || typeof payload !== 'object') return graphError(res, 400, 131008, '(#131008) Required parameter is missing', { details: `${type} is required` });
    if (type === 'text' && typeof payload.body !== 'string') return graphError(res, 400, 131008, '(#131008) Required parameter is missing', { details: 'text.body is required' });
    if (MEDIA_TYPES.has(type)) {
      if (typeof payload.id === 'string' ? !this.sandbox.store.getMedia(payload.id) : typeof payload.link !== 'string') {
        return graphError(res, 400, 131053, '(#131053) Media upload error', { details: `${type}: the media id is unknown (upload it first) or no link was given` });
      }
    }
    if (type === 'template' && typeof payload.name !== 'string') return graphError(res, 400, 131008, '(#131008) Required parameter is missing', { details: 'template.name is required' });
    const wamid = this.sandbox.received(to, { ...body, type });
    res.status(200).json({
      messaging_product: 'whatsapp',
      contacts: [{ input: body.to, wa_id: to }],
      messages: [type === 'template' ? { id: wamid, message_status: 'accepted' } : { id: wamid }],
    });
  }

  @Post(':version/:phoneNumberId/media')
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1 } }))
  upload(@UploadedFile() file: UploadedPart | undefined, @Req() req: Request, @Res() res: Response): void {
    if (!this.authorized(req, res)) return;
    const fields = (req.body ?? {}) as Record<string, unknown>;
    if (!file) return graphError(res, 400, 131008, '(#131008) The parameter file is required.');
    if (fields.messaging_product !== 'whatsapp') return graphError(res, 400, 131008, '(#131008) The parameter messaging_product is required.');
    // Meta reads the MIME type from the `type` field, not the file part's header.
    if (typeof fields.type !== 'string' || !fields.type) return graphError(res, 400, 131008, '(#131008) The parameter type is required.');
    const media = this.sandbox.store.addMedia(file.buffer, fields.type, file.originalname);
    res.status(200).json({ id: media.id });
  }

  @Get(':version/:mediaId')
  mediaInfo(@Param('mediaId') mediaId: string, @Req() req: Request, @Res() res: Response): void {
    if (!this.authorized(req, res)) return;
    const media = this.sandbox.store.getMedia(mediaId);
    if (!media) return unknownObject(res, mediaId, 'get');
    res.status(200).json({
      messaging_product: 'whatsapp',
      url: `${this.config.whatsapp.apiUrl}/media-download/${this.sandbox.store.downloadToken(mediaId)}`,
      mime_type: media.mimeType,
      sha256: media.sha256Base64,
      file_size: media.bytes.length,
      id: media.id,
    });
  }

  @Delete(':version/:mediaId')
  deleteMedia(@Param('mediaId') mediaId: string, @Req() req: Request, @Res() res: Response): void {
    if (!this.authorized(req, res)) return;
    if (!this.sandbox.store.deleteMedia(mediaId)) return unknownObject(res, mediaId, 'delete');
    res.status(200).json({ success: true });
  }
}

function unknownObject(res: Response, id: string, method: string): void {
  graphError(
    res,
    400,
    100,
    `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    { subcode: 33, type: 'GraphMethodException' },
  );
}
