// Event rows: when, what kind, why, about which object, and (wide) from where and how often.

import { column, NAME_COLUMN, wide, type TablePrinter } from './columns.js';
import { since } from './duration.js';
import { int, isRecord, str } from './format.js';

function present(ts: unknown): boolean {
  return typeof ts === 'string' && ts !== '' && !Number.isNaN(Date.parse(ts));
}

export const eventPrinter: TablePrinter = {
  columns: [
    column('Last Seen', 'string', 'Time since the event was last seen.'),
    column('Type', 'string', 'Normal or Warning.'),
    column('Reason', 'string', 'Short machine-readable reason.'),
    column('Object', 'string', 'The object the event is about.'),
    wide('Subobject', 'string', 'Part of the object the event is about, such as a container.'),
    wide('Source', 'string', 'Component that reported the event.'),
    column('Message', 'string', 'Human-readable description.'),
    wide('First Seen', 'string', 'Time since the event was first seen.'),
    wide('Count', 'string', 'How many times the event happened.'),
    { ...NAME_COLUMN, priority: 1 },
  ],
  print(obj, now) {
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const involved = isRecord(obj.involvedObject) ? obj.involvedObject : {};
    const source = isRecord(obj.source) ? obj.source : {};
    const series = isRecord(obj.series) ? obj.series : undefined;

    const firstSeen = present(obj.firstTimestamp) ? since(obj.firstTimestamp, now) : since(obj.eventTime, now);
    let lastSeen = present(obj.lastTimestamp) ? since(obj.lastTimestamp, now) : firstSeen;
    let times = int(obj.count);
    if (series) {
      lastSeen = since(series.lastObservedTime, now);
      times = int(series.count);
    } else if (times === 0) {
      times = 1; // a singleton event carries no count
    }

    const kind = str(involved.kind).toLowerCase();
    const target = str(involved.name) !== '' ? `${kind}/${str(involved.name)}` : kind;
    const component = str(source.component) || str(obj.reportingController);
    const host = str(source.host) || str(obj.reportingInstance);
    const from = host === '' ? component : `${component}, ${host}`;

    return {
      cells: [
        lastSeen,
        str(obj.type),
        str(obj.reason),
        target,
        str(involved.fieldPath),
        from,
        str(obj.message).trim(),
        firstSeen,
        times,
        String(meta.name ?? ''),
      ],
    };
  },
};
