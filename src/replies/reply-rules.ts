import type { ReplyAttachment, ReplyStatus } from '../../connectors/_sdk/contract';
import type { GateDecision } from '../consent/consent-gate';
import type { ReplyRefusal, ReplyTemplateSetting } from './replies.types';

/**
 * The reply router's decisions as pure functions: which form a reply takes (free text inside the
 * 24-hour window, the connection's template outside it, or nothing and why), how template
 * parameters are filled, and how WhatsApp's failures read to an agent.
 */

/** What a reply becomes. */
export type ReplyForm =
  | { form: 'text' }
  | { form: 'template'; template: ReplyTemplateSetting }
  | { form: 'refuse'; reason: ReplyRefusal; detail: string };

/**
 * @param freeText the consent gate's answer for free text (category `service`) to this customer now:
 *   allowed means the 24-hour window is open.
 * @param template the template to fall back to outside the window, if one is configured.
 * @param whatToDo what an agent can do when there is none (depends on where the reply came from).
 */
export function chooseReplyForm(freeText: GateDecision, template: ReplyTemplateSetting | null, whatToDo: string): ReplyForm {
  if (freeText.allowed) return { form: 'text' };
  if (freeText.reason !== 'outside_service_window') return { form: 'refuse', reason: freeText.reason, detail: `Not sent on WhatsApp: ${freeText.detail}.` };
  if (template) return { form: 'template', template };
  return { form: 'refuse', reason: 'no_reply_template', detail: `Not sent on WhatsApp: ${freeText.detail}, and no reply template is configured. ${whatToDo}` };
}

/** Reads `replyTemplate` from a connection's settings; null when absent or not a usable shape. */
export function readReplyTemplate(settings: unknown): ReplyTemplateSetting | null {
  const value = (settings as { replyTemplate?: unknown } | null | undefined)?.replyTemplate;
  if (!value || typeof value !== 'object') return null;
  const { name, language, parameters } = value as Record<string, unknown>;
  if (typeof name !== 'string' || !name || typeof language !== 'string' || !language) return null;
  if (parameters !== undefined && (!Array.isArray(parameters) || parameters.some((p) => typeof p !== 'string'))) return null;
  return { name, language, ...(parameters ? { parameters: parameters as string[] } : {}) };
}

/** Meta refuses a parameter with a new line, a tab or more than 4 spaces in a row (#132018). */
const MAX_PARAMETER_LENGTH = 1024;

/**
 * Fills a template's body parameters: `{{agent.text}}` is the agent's words, `{{customer.name}}`
 * the customer's WhatsApp profile name (their number when WhatsApp gave none); anything else is
 * literal. Values are flattened to one line, as WhatsApp requires of template parameters.
 */
export function renderTemplateParameters(mapping: string[], values: { agentText: string; customerName: string }): string[] {
  return mapping.map((entry) => toTemplateParameter(entry.split('{{agent.text}}').join(values.agentText).split('{{customer.name}}').join(values.customerName)));
}

function toTemplateParameter(value: string): string {
  const flat = value.replace(/[\r\n\t]+/g, ' ').replace(/ {4,}/g, '   ').trim();
  return flat.length > MAX_PARAMETER_LENGTH ? `${flat.slice(0, MAX_PARAMETER_LENGTH - 1)}…` : flat;
}

/**
 * What an agent calls an attachment: its file name, else the name in its link (a `name` query
 * parameter, as Zendesk's content_url has, or the last path segment), else its position.
 */
export function attachmentName(attachment: Pick<ReplyAttachment, 'filename' | 'url'>, index: number): string {
  const named = attachment.filename?.trim();
  if (named) return named;
  try {
    const url = new URL(attachment.url ?? '');
    const fromLink = url.searchParams.get('name') ?? decodeURIComponent(url.pathname.split('/').filter(Boolean).at(-1) ?? '');
    if (/\.[a-z0-9]{1,5}$/i.test(fromLink)) return fromLink;
  } catch {
    // not a URL: fall through to the position
  }
  return `attachment ${index + 1}`;
}

/** What the agent is told about files of a reply that did not go (the rest did, when `restSent`). */
export function describeUnsentAttachments(notSent: string[], restSent: boolean): string {
  return `Not sent on WhatsApp: ${notSent.join('; ')}.${restSent ? ' The rest of the reply was sent.' : ''}`;
}

/**
 * Outside the 24-hour window a reply goes as the connection's template, which carries text only:
 * its files are not sent, and the agent is told so.
 */
export function describeAttachmentsOutsideWindow(names: string[], template: string): string {
  return (
    `Not sent on WhatsApp: ${names.join(', ')}. Outside the customer's 24-hour window the reply went as the approved template ${template}, which carries text only: ` +
    "WhatsApp takes files only within 24 hours of the customer's last message. Send the files when the customer writes again."
  );
}

/** Meta's codes for a message WhatsApp would not deliver, in words an agent can act on. */
const WHATSAPP_FAILURES: Record<number, string> = {
  131047:
    'more than 24 hours have passed since the customer last wrote, so WhatsApp accepts only an approved template. Configure a reply template for this connection (settings.replyTemplate), or answer when the customer writes again',
  131026:
    "WhatsApp could not deliver it: the number may not be on WhatsApp, the customer's app may be out of date, or the customer has blocked the business. Reach the customer another way",
  131056:
    'too many messages went to this customer in a short time (WhatsApp limits each customer to a few per minute). Wait a minute and send it again',
  131049: "WhatsApp held it back to limit how many marketing messages one customer receives. Try again in a day or two, or use a utility template",
  131051: 'WhatsApp does not support this kind of message',
  132000: "the template's parameters do not match the approved template: check the template mapping (POST /api/v1/templates)",
  132001: 'the template does not exist in this language at Meta: check the template name and language',
  130429: 'WhatsApp asked the business to send more slowly; threadbridge tries again',
  131000: 'WhatsApp had an internal error',
};

/**
 * How a WhatsApp failure reads to an agent. `code` is Meta's error code when there was one;
 * `title` what was recorded with it (Meta's title, or why threadbridge gave up); `subject` the
 * part of the reply that failed, when it was not the reply itself (one of its files).
 */
export function describeWhatsAppFailure(code: number | null, title: string | null, subject?: string): string {
  const lead = `Not delivered on WhatsApp${subject ? ` (${subject})` : ''}`;
  const known = code !== null ? WHATSAPP_FAILURES[code] : undefined;
  if (known) return `${lead}: ${known} (WhatsApp error ${code}).`;
  const what = title?.trim() ? title.trim() : 'no reason was given';
  return `${lead}: ${what}${code !== null ? ` (WhatsApp error ${code})` : ''}.`;
}

/** The reply state a message status reports; null for statuses that report nothing (pending). */
export function replyStateOf(messageStatus: string): ReplyStatus['state'] | null {
  return messageStatus === 'sent' || messageStatus === 'delivered' || messageStatus === 'read' || messageStatus === 'failed' ? messageStatus : null;
}
