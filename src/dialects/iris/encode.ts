/** Column values as IRIS takes them: booleans as 1/0, vectors as text inside TO_VECTOR(). */
import type { ColumnSpec } from "../../schema.ts";
import { encodeCommon } from "../encode.ts";
import { elementKeyword } from "./types.ts";

export function encode(spec: ColumnSpec, value: unknown): unknown {
  return spec.kind === "boolean" && value !== null ? (value ? 1 : 0) : encodeCommon(spec, value);
}

export function valueSql(spec: ColumnSpec, placeholder: string): string {
  return spec.kind === "vector" ? `TO_VECTOR(${placeholder}, ${elementKeyword(spec)})` : placeholder;
}
