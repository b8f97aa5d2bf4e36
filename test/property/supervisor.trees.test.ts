import { agreesWithModel } from './modelAgreement.js';

agreesWithModel(
  'model-based: nested spawns, cancelTree and cancelDescendantsForRun with the run fence',
  'trees',
  {
    weights: {
      spawnChild: 6,
      cancelTree: 4,
      cancelDescendantsForRun: 3,
      sendTaskInboxMessage: 0,
      prune: 0,
      tick: 0,
      restart: 0,
    },
  },
);
