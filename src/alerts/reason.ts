/**
 * `kibana.alert.reason`, in Kibana's wording (reason_formatters.ts buildReasonMessageUtil) so alerts read the
 * same in the Alerts table whichever engine wrote them.
 */
import { stringsAt } from './paths.js';

export function buildReason(doc: unknown, ruleName: string, severity: string): string {
  const get = (p: string): string | undefined => {
    const values = stringsAt(doc, p);
    return values.length > 0 ? values.join(', ') : undefined;
  };
  const category = get('event.category');
  const processName = get('process.name');
  const parentName = get('process.parent.name');
  const fileName = get('file.name');
  const sourceIp = get('source.ip');
  const sourcePort = get('source.port');
  const destIp = get('destination.ip');
  const destPort = get('destination.port');
  const user = get('user.name');
  const host = get('host.name');

  let msg = category ? `${category} event` : 'event';
  if (processName || parentName || fileName || sourceIp || destIp) msg += ' with';
  if (processName) msg += ` process ${processName},`;
  if (parentName) msg += ` parent process ${parentName},`;
  if (fileName) msg += ` file ${fileName},`;
  if (sourceIp) msg += ` source ${sourceIp}${sourcePort ? `:${sourcePort},` : ''}`;
  if (destIp) msg += ` destination ${destIp}${destPort ? `:${destPort},` : ''}`;
  if (user) msg += ` by ${user}`;
  if (host) msg += ` on ${host}`;
  return `${msg} created ${severity} alert ${ruleName}.`;
}
