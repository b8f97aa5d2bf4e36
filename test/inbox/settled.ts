/** Whether `p` has settled, checked after letting pending microtasks run. */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise<void>((r) => setImmediate(r));
  return settled;
}
