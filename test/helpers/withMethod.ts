import type { TaskSupervisor } from '../../src/index.js';

/**
 * The real supervisor with one method replaced, for planting bugs in model-based suites. Every other
 * member is the real one, bound to the real supervisor (its private fields need the real `this`).
 */
export function withMethod<K extends keyof TaskSupervisor>(
  real: TaskSupervisor,
  key: K,
  impl: TaskSupervisor[K],
): TaskSupervisor {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === key) return impl;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
