import type { JsonSchema } from './types.js';

/**
 * The name of the `cancel_task` tool.
 *
 * @example
 * cancelTaskTool(supervisor).name === CANCEL_TASK_TOOL_NAME; // true
 */
export const CANCEL_TASK_TOOL_NAME = 'cancel_task';

/**
 * The description of the `cancel_task` tool, as upstream.
 *
 * @example
 * cancelTaskTool(supervisor).description === CANCEL_TASK_DESCRIPTION; // true
 */
export const CANCEL_TASK_DESCRIPTION =
  'Cancel the current background task, the current run outside background tasks, or one child task. Descendant tasks are cancelled together.';

/**
 * The JSON Schema of `cancel_task`'s arguments, usable by any LLM client.
 *
 * @example
 * new Ajv({ strict: true }).compile(CANCEL_TASK_PARAMETERS);
 */
export const CANCEL_TASK_PARAMETERS: JsonSchema = {
  type: 'object',
  properties: {
    target: {
      oneOf: [
        { type: 'object', properties: { relation: { const: 'self' } }, required: ['relation'] },
        {
          type: 'object',
          properties: {
            relation: { const: 'child' },
            name: { type: 'string', description: 'Direct child task name or task_id' },
          },
          required: ['relation', 'name'],
        },
      ],
    },
  },
  required: ['target'],
};

/**
 * The name of the `send_message` tool.
 *
 * @example
 * sendMessageTool(supervisor, {}).name === SEND_MESSAGE_TOOL_NAME; // true
 */
export const SEND_MESSAGE_TOOL_NAME = 'send_message';

/**
 * The description of the `send_message` tool, as upstream.
 *
 * @example
 * sendMessageTool(supervisor, {}).description === SEND_MESSAGE_DESCRIPTION; // true
 */
export const SEND_MESSAGE_DESCRIPTION = 'Send a message to a child task, parent agent, or team member.';

/**
 * The JSON Schema of `send_message`'s arguments, usable by any LLM client.
 *
 * @example
 * new Ajv({ strict: true }).compile(SEND_MESSAGE_PARAMETERS);
 */
export const SEND_MESSAGE_PARAMETERS: JsonSchema = {
  type: 'object',
  properties: {
    to: {
      oneOf: [
        { type: 'object', properties: { relation: { const: 'parent' } }, required: ['relation'] },
        {
          type: 'object',
          properties: {
            relation: { const: 'child' },
            name: { type: 'string', description: 'Task name or ID' },
          },
          required: ['relation', 'name'],
        },
        {
          type: 'object',
          properties: {
            relation: { const: 'agent' },
            thread_id: { type: 'string' },
            agent_id: { type: 'string' },
          },
          required: ['relation', 'thread_id'],
        },
      ],
    },
    message: { type: 'string' },
  },
  required: ['to', 'message'],
};

/**
 * A deep copy of a schema, so a client that mutates the one it is given cannot change ours.
 *
 * @example
 * cloneSchema(CANCEL_TASK_PARAMETERS) !== CANCEL_TASK_PARAMETERS; // true
 */
export function cloneSchema(schema: JsonSchema): JsonSchema {
  return structuredClone(schema);
}

/**
 * The name of the `recover_failed_messages` tool.
 *
 * @example
 * recoverFailedMessagesTool(supervisor).name === RECOVER_FAILED_MESSAGES_TOOL_NAME; // true
 */
export const RECOVER_FAILED_MESSAGES_TOOL_NAME = 'recover_failed_messages';

/**
 * The description of the `recover_failed_messages` tool, as upstream.
 *
 * @example
 * recoverFailedMessagesTool(supervisor).description === RECOVER_FAILED_MESSAGES_DESCRIPTION; // true
 */
export const RECOVER_FAILED_MESSAGES_DESCRIPTION =
  'Inspect and recover durable messages that failed delivery: list them, replay (re-enqueue all for delivery), or clear them.';

/**
 * The JSON Schema of `recover_failed_messages`' arguments, as upstream (no `required`: a missing
 * action means `list`).
 *
 * @example
 * new Ajv({ strict: true }).compile(RECOVER_FAILED_MESSAGES_PARAMETERS);
 */
export const RECOVER_FAILED_MESSAGES_PARAMETERS: JsonSchema = {
  type: 'object',
  properties: {
    action: {
      type: 'string',
      enum: ['list', 'replay', 'clear'],
      description:
        'list (default): show dead-lettered messages; replay: re-enqueue all for delivery; clear: discard all',
    },
  },
};
