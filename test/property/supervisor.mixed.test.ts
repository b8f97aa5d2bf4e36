import { agreesWithModel } from './modelAgreement.js';

agreesWithModel('model-based: every operation mixed', 'mixed', {});
