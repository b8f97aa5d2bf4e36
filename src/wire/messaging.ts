/**
 * Wire shapes of durable agent messaging: the outbox entry `send_message` commits, the request a
 * durable sink receives, dead letters, and a message delivered into a recipient thread. Field names
 * are snake_case because the Rust runtime reads and writes the same JSON.
 */

/**
 * One durable message: what the outbox keeps for the parent and agent routes, and exactly what a
 * `DurableMessageSink` receives. `message_id` is the UUIDv7 the `send_message` receipt returned; a
 * sink must treat a second request with the same id as the same message.
 *
 * @example
 * const req: DurableMessageRequest = {
 *   message_id: '01890a5d-ac96-774b-bcce-b302099a8057',
 *   recipient_thread_id: 'thread-2',
 *   recipient_agent_id: null,
 *   sender_agent_id: 'researcher',
 *   message: 'analysis complete',
 * };
 */
export type DurableMessageRequest = {
  message_id: string;
  recipient_thread_id: string;
  recipient_agent_id: string | null;
  sender_agent_id: string;
  message: string;
};

/**
 * The child route: a message for a live sub-agent of the sender's thread, delivered at the step end
 * into its inbox.
 *
 * @example
 * const route: ChildInboxRoute = { task_id: 'bg_0', owner_thread_id: 'thread-1', sender_agent_id: 'parent', message: 'hi' };
 */
export type ChildInboxRoute = {
  task_id: string;
  owner_thread_id: string;
  sender_agent_id: string;
  message: string;
};

/**
 * Where an outbox entry goes, externally tagged as upstream serializes it.
 *
 * @example
 * const route: OutboxRoute = { Durable: req };
 */
export type OutboxRoute = { ChildInbox: ChildInboxRoute } | { Durable: DurableMessageRequest };

/**
 * One pending message of a thread's outbox. `attempts` counts failed durable deliveries.
 *
 * @example
 * const entry: OutboxEntry = { id: req.message_id, route: { Durable: req }, attempts: 0 };
 */
export type OutboxEntry = {
  id: string;
  route: OutboxRoute;
  attempts: number;
};

/**
 * A message that could not be delivered, with the reason. A child-route message (to a sub-agent)
 * carries `task_id`, the recipient task; its `request` then names the sender's thread as
 * `recipient_thread_id` (the sub-agent's owner) and a `null` agent. Replaying it retries the child.
 *
 * @example
 * const letter: DeadLetter = { request: req, error: 'sink down' };
 */
export type DeadLetter = {
  request: DurableMessageRequest;
  error: string;
  task_id?: string;
};

/**
 * A message the reference durable sink delivered into its recipient thread: the request plus the
 * dispatch id the sink answered (the same for every redelivery of one `message_id`).
 *
 * @example
 * const m: DeliveredMessage = { ...req, dispatch_id: '0190…' };
 */
export type DeliveredMessage = DurableMessageRequest & { dispatch_id: string };
