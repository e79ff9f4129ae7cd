// How a protobuf message maps onto its JSON shape: one row per field number.

/** The field is `repeated` (a JSON array). */
export const REP = 1;
/** A pointer in the API types: its zero value was sent on purpose and is kept (replicas: 0). */
export const PTR = 2;
/** An embedded struct whose fields sit directly in the parent's JSON (Volume's source). */
export const INL = 4;

/**
 * Field types: scalars ('string', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'double',
 * 'bytes'), well-known wrappers ('Quantity', 'IntOrString', 'Time', 'MicroTime',
 * 'RawExtension', 'FieldsV1'), a message name ('core/v1.Container') or 'map:<value type>'
 * for map<string, value type>.
 */
export type FieldSpec = readonly [json: string, type: string, flags?: number];

export type MessageTable = Readonly<Record<number, FieldSpec>>;
