/**
 * PostgreSQL type OIDs irisql reads: the adapters install parsers by them and
 * row decoding asks whether a column arrived as json. Kept apart from both so
 * neither depends on the other.
 */
export const OID = {
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  json: 114,
  float4: 700,
  float8: 701,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;
