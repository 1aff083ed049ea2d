/** Injection token of the clock the consent gate reads (tests pass a fixed one). */
export const CLOCK = Symbol('CLOCK');

/** Who is recorded as the actor of a keyword the customer wrote. */
export const CUSTOMER_ACTOR = 'customer';

/** origin and author of the confirmations sent for STOP / START. */
export const CONSENT_ORIGIN = 'consent';
export const CONSENT_AUTHOR = 'threadbridge';

/** Replies to STOP / START when no text is configured. */
export const DEFAULT_STOP_CONFIRMATION = 'You will no longer receive marketing messages from us. Reply START to subscribe again.';
export const DEFAULT_START_CONFIRMATION = 'You are subscribed to our marketing messages again. Reply STOP to unsubscribe at any time.';
