import { agreesWithModel } from './modelAgreement.js';

agreesWithModel(
  'model-based: spawn / emit / settle / cancel / cancelTree / cancelAll interleavings',
  'lifecycle',
  {
    weights: { spawnAgent: 0, sendTaskInboxMessage: 0, prune: 0, tick: 0, restart: 0 },
  },
);
