import { agreesWithModel } from './modelAgreement.js';

agreesWithModel(
  'model-based: sub-agents: sendTaskInboxMessage, children reporting to the inbox of a sub-agent',
  'agents',
  {
    weights: { spawnAgent: 5, sendTaskInboxMessage: 5, spawnChild: 5, prune: 0, tick: 0, restart: 0 },
  },
);
