/**
 * Sub-objects that are the same for every event of a pod, node or session (host, container,
 * orchestrator, agent, leaders) are built once and shared between documents to keep a
 * million-event scenario within memory. They are deep-frozen so that a consumer mutating one
 * document fails loudly instead of silently changing thousands of others.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value as object)) {
      deepFreeze((value as Record<string, unknown>)[key]);
    }
  }
  return value;
}
