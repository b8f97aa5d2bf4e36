import type { AgentModel, Message, ModelResponse } from './types.js';

/**
 * A model that answers from a script, for tests and demos.
 *
 * @example
 * const model: ScriptedModel = scriptedModel([{ text: 'hi' }]);
 */
export type ScriptedModel = AgentModel & { requests: Array<{ messages: Message[] }> };

/**
 * A model that returns `steps[i]` on its i-th call and records a deep copy of each request's
 * messages in `.requests`. Asked for a step beyond its script, it throws (synchronously; that
 * request is not recorded).
 *
 * @example
 * const model = scriptedModel([
 *   { toolCalls: [{ id: 'c1', name: 'cancel_task', args: { target: { relation: 'self' } } }] },
 *   { text: 'done' },
 * ]);
 * await runAgentLoop({ model, supervisor, threadId: 't' });
 * model.requests.length; // 2
 */
export function scriptedModel(steps: ModelResponse[]): ScriptedModel {
  const script = steps.map((s) => structuredClone(s));
  const requests: Array<{ messages: Message[] }> = [];
  // Not `async`: a request beyond the script throws synchronously, which `await` also surfaces.
  const model = (req: { messages: Message[] }): Promise<ModelResponse> => {
    const i = requests.length;
    const step = script[i];
    if (step === undefined) {
      throw new Error(`scriptedModel: asked for step ${i + 1} but the script has ${script.length}`);
    }
    requests.push({ messages: structuredClone(req.messages) });
    return Promise.resolve(structuredClone(step));
  };
  return Object.assign(model, { requests });
}
