/**
 * name/inspect's reply, as kubo lays it out (core/commands/name/name.go):
 * the entry's fields (Validity RFC 3339, TTL in nanoseconds), the protobuf
 * size, which signatures it holds, a Go `hex.Dump` of the bytes and the
 * verification against `verify`'s name. The fields come from the CLI's
 * inspector; nothing is decoded here.
 */
import type { Inspection } from '../../cli/record-inspect.js'

export interface InspectReply {
  Entry: { Value: string, ValidityType: number | null, Validity: string | null, Sequence: number | string | null, TTL: number | string | null }
  PbSize: number
  SignatureType: 'V1+V2' | 'V2'
  HexDump: string
  Validation: { Valid: boolean, Reason: string, Name: string } | null
}

/** a bigint as a JSON number when it is exact, else its decimal text */
const num = (v: bigint | undefined): number | string | null =>
  v === undefined ? null : (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString())

export function inspectionReply (bytes: Uint8Array, i: Inspection, validation: InspectReply['Validation']): InspectReply {
  return {
    Entry: {
      Value: i.value ?? i.v1?.value ?? '',
      ValidityType: i.validityType !== undefined ? Number(i.validityType) : null,
      Validity: i.validity ?? null,
      Sequence: num(i.sequence),
      TTL: num(i.ttl)
    },
    PbSize: i.size,
    SignatureType: i.hasV1Signature ? 'V1+V2' : 'V2',
    HexDump: hexDump(bytes),
    Validation: validation
  }
}

/** Go's encoding/hex Dump: offset, 16 bytes in two groups of 8, and the printable ASCII between bars */
export function hexDump (bytes: Uint8Array): string {
  let out = ''
  for (let at = 0; at < bytes.byteLength; at += 16) {
    const row = bytes.subarray(at, at + 16)
    let hex = ''
    let ascii = ''
    for (let i = 0; i < 16; i++) {
      const b = row[i]
      hex += b === undefined ? '   ' : `${b.toString(16).padStart(2, '0')} `
      if (i === 7) hex += ' '
      if (b !== undefined) ascii += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.'
    }
    out += `${at.toString(16).padStart(8, '0')}  ${hex} |${ascii}|\n`
  }
  return out
}
