import { type BusinessHours, describeNextOpen, renderTemplate } from './hours';
import {
  DEFAULT_HUMAN_KEYWORDS,
  DEFAULT_TRIAGE_TIMEOUT_MINUTES,
  normaliseWords,
  pickText,
  type ServicePolicy,
  type TriageOption,
  type TriagePolicy,
} from './policy-document';

/**
 * What the service policy does with a customer's message, as a pure function of the policy, the
 * conversation's state and the message: which auto-replies go (each with the idempotency key that
 * makes it go once), which route the conversation takes, and the state after. The handler loads,
 * locks, sends and saves; everything that decides is here, where a table of cases tests it.
 */

export type TriageState = 'none' | 'menu' | 'routed' | 'human';

export interface ConversationServiceState {
  triageState: TriageState;
  /** Steps taken, in order: 'menu', 'option:<route>', 'keyword:<route>', 'human', 'timeout'. */
  path: string[];
  menuAt: Date | null;
  messagesAfterMenu: number;
  handoffAt: Date | null;
}

export const INITIAL_STATE: ConversationServiceState = { triageState: 'none', path: [], menuAt: null, messagesAfterMenu: 0, handoffAt: null };

export interface CustomerMessage {
  conversationId: string;
  phoneNumberId: string;
  /** WhatsApp's time of the message: hours are judged at the moment the customer wrote. */
  at: Date;
  /** The text (or a button/list reply's title); null for media without a caption. */
  text: string | null;
  /** The id of the menu option a button or list reply picked. */
  replyId: string | null;
  /** The conversation's first customer message. */
  first: boolean;
}

export type AutoReply =
  | { kind: 'away' | 'greeting'; key: string; text: string }
  | { kind: 'menu'; key: string; menu: { body: string; buttonLabel?: string; options: { id: string; key: string; title: string }[] } };

export interface Decision {
  replies: AutoReply[];
  /** The route to apply now; `handoff`: the moment a person takes over (triage ended). */
  route?: { name: string; handoff: boolean };
  state: ConversationServiceState;
  /** When to look again if the customer does not answer the menu. */
  timeoutAt?: Date;
}

const MENU_REPLY_PREFIX = 'triage:';

/** The customer's language for the policy's texts: by their number's country, else the policy's. */
export function languageFor(policy: ServicePolicy, country: string | undefined): string {
  return (country && policy.languages?.[country]) || policy.language || 'en';
}

export function decide(policy: ServicePolicy, hours: BusinessHours, state: ConversationServiceState, message: CustomerMessage, language: string): Decision {
  const replies: AutoReply[] = [];
  const open = hours.isOpen(message.at);
  const fallback = policy.language ?? 'en';
  if (!open && policy.awayMessage) {
    // Keyed on when this closed period began: one away message per closed period per conversation.
    const closedSince = hours.closedSince(message.at) ?? message.at;
    const nextOpen = hours.nextOpen(message.at);
    const text = renderTemplate(pickText(policy.awayMessage, language, fallback), {
      nextOpen: nextOpen ? describeNextOpen(message.at, nextOpen, hours.timeZone, language) : '',
    });
    replies.push({ kind: 'away', key: `away:${message.conversationId}:${closedSince.toISOString()}`, text });
  }
  if (open && message.first && policy.greetingMessage) {
    replies.push({ kind: 'greeting', key: `greeting:${message.conversationId}`, text: pickText(policy.greetingMessage, language, fallback) });
  }

  const triage = policy.triage;
  if (!triage) {
    // No triage: the rules pick the route from the first message, else the default route.
    if (!message.first) return { replies, state };
    const rule = matchRule(policy, message, open);
    const name = rule ?? policy.defaultRoute;
    return { replies, state, route: name ? { name, handoff: false } : undefined };
  }

  const text = message.text ? normaliseWords(message.text) : '';
  const asksForHuman = text !== '' && containsAny(text, triage.humanKeywords ?? DEFAULT_HUMAN_KEYWORDS);
  const humanRoute = triage.humanRoute ?? policy.defaultRoute!;
  const toHuman = (): Decision => ({
    replies,
    route: { name: humanRoute, handoff: true },
    state: { ...state, triageState: 'human', path: [...state.path, 'human'], handoffAt: state.handoffAt ?? message.at },
  });

  switch (state.triageState) {
    case 'none': {
      if (asksForHuman) return toHuman();
      // The customer said what they want in their first words: no menu.
      const rule = message.first ? matchRule(policy, message, open, true) : undefined;
      if (rule) return { replies, route: { name: rule, handoff: true }, state: { ...state, triageState: 'routed', path: [`keyword:${rule}`], handoffAt: message.at } };
      const picked = pickOption(triage, message, text);
      if (picked && !message.first) return chose(replies, state, picked, message.at);
      replies.push({ kind: 'menu', key: `triage-menu:${message.conversationId}`, menu: menuOf(triage, language, fallback) });
      const timeoutAt = new Date(message.at.getTime() + (triage.timeoutMinutes ?? DEFAULT_TRIAGE_TIMEOUT_MINUTES) * 60_000);
      return { replies, state: { ...state, triageState: 'menu', path: [...state.path, 'menu'], menuAt: message.at, messagesAfterMenu: 0 }, timeoutAt };
    }
    case 'menu': {
      if (asksForHuman) return toHuman();
      const picked = pickOption(triage, message, text);
      if (picked) return chose(replies, state, picked, message.at);
      // Their second message without an answer: a person takes it on the default route.
      return {
        replies,
        route: { name: policy.defaultRoute ?? humanRoute, handoff: true },
        state: { ...state, triageState: 'routed', path: [...state.path, 'timeout'], messagesAfterMenu: state.messagesAfterMenu + 1, handoffAt: message.at },
      };
    }
    case 'routed':
      // A person can be asked for at any moment, also after an option was chosen.
      return asksForHuman ? toHuman() : { replies, state };
    case 'human':
      return { replies, state };
  }
}

/** The menu was not answered in time: the default route, with the time-out as the handoff. */
export function decideTimeout(policy: ServicePolicy, state: ConversationServiceState, now: Date): Decision | null {
  if (state.triageState !== 'menu' || !policy.triage || !state.menuAt) return null;
  const due = new Date(state.menuAt.getTime() + (policy.triage.timeoutMinutes ?? DEFAULT_TRIAGE_TIMEOUT_MINUTES) * 60_000);
  if (now < due) return { replies: [], state, timeoutAt: due };
  return {
    replies: [],
    route: { name: policy.defaultRoute ?? policy.triage.humanRoute!, handoff: true },
    state: { ...state, triageState: 'routed', path: [...state.path, 'timeout'], handoffAt: due },
  };
}

function chose(replies: AutoReply[], state: ConversationServiceState, option: TriageOption, at: Date): Decision {
  return {
    replies,
    route: { name: option.route, handoff: true },
    state: { ...state, triageState: 'routed', path: [...state.path, `option:${option.route}`], handoffAt: at },
  };
}

function menuOf(triage: TriagePolicy, language: string, fallback: string): Extract<AutoReply, { kind: 'menu' }>['menu'] {
  return {
    body: pickText(triage.prompt, language, fallback),
    buttonLabel: triage.buttonLabel ? pickText(triage.buttonLabel, language, fallback) : undefined,
    options: triage.options.map((o) => ({ id: `${MENU_REPLY_PREFIX}${o.key}`, key: o.key, title: o.label })),
  };
}

/**
 * The option an answer picks: a tapped button or list row; the option's key typed alone ("2",
 * "2."); its label; else the one option whose label or keywords appear in the answer as words.
 */
export function pickOption(triage: TriagePolicy, message: Pick<CustomerMessage, 'replyId'>, text: string): TriageOption | undefined {
  if (message.replyId?.startsWith(MENU_REPLY_PREFIX)) {
    const key = message.replyId.slice(MENU_REPLY_PREFIX.length);
    const tapped = triage.options.find((o) => o.key === key);
    if (tapped) return tapped;
  }
  if (text === '') return undefined;
  const exact = triage.options.find((o) => normaliseWords(o.key) === text || normaliseWords(o.label) === text);
  if (exact) return exact;
  const mentioned = triage.options.filter((o) => containsAny(text, [o.label, ...(o.keywords ?? [])]));
  return mentioned.length === 1 ? mentioned[0] : undefined;
}

/** The first rule that holds for a new conversation's first message (`byKeyword`: rules with keywords only). */
function matchRule(policy: ServicePolicy, message: CustomerMessage, open: boolean, byKeyword = false): string | undefined {
  const text = message.text ? normaliseWords(message.text) : '';
  return policy.rules?.find(
    (rule) =>
      (!byKeyword || rule.keywords !== undefined) &&
      (rule.keywords === undefined || containsAny(text, rule.keywords)) &&
      (rule.phoneNumberIds === undefined || rule.phoneNumberIds.includes(message.phoneNumberId)) &&
      (rule.hours === undefined || (rule.hours === 'open') === open),
  )?.route;
}

/** Whether any of the words or phrases occurs in `text` (already normalised) as whole words. */
function containsAny(text: string, phrases: string[]): boolean {
  if (text === '') return false;
  const padded = ` ${text} `;
  return phrases.some((phrase) => {
    const p = normaliseWords(phrase);
    return p !== '' && padded.includes(` ${p} `);
  });
}
