// CPU time of the PostgreSQL backends serving one application (by `application_name`), read from
// /proc: for probes that run the database on the same machine.
import { readFileSync } from 'node:fs';

/** User + system clock ticks of process `pid` so far (0 when it is gone). */
function ticks(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** CPU ms so far of the backends whose `application_name` is `app`, asked through `admin`. */
export async function serverCpuMs(admin, app) {
  const r = await admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [app]);
  let t = 0;
  for (const { pid } of r.rows) t += ticks(pid);
  return t * 10; // ms (USER_HZ 100)
}
