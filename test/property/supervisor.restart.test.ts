import { agreesWithModel } from './modelAgreement.js';

agreesWithModel('model-based: simulated restarts (loadThread, orphans), prune and the clock', 'restart', {
  weights: { restart: 4, prune: 3, tick: 3 },
});
