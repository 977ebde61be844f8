import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatRfc3339Nano, parseRfc3339 } from '../../src/records/rfc3339.js'

const MIN = parseRfc3339('0000-01-01T00:00:00Z')
const MAX = parseRfc3339('9999-12-31T23:59:59.999999999Z')

describe('RFC 3339 with nanoseconds', () => {
  it('reads the precisions the vectors use (5, 6 and 9 fractional digits) and keeps them when formatting', () => {
    for (const t of ['2123-04-12T13:36:58.23727Z', '2123-08-14T12:17:03.694052Z', '2126-01-31T15:56:12.714899293Z', '2024-01-19T16:33:20Z']) {
      expect(formatRfc3339Nano(parseRfc3339(t))).toBe(t)
    }
    expect(parseRfc3339('2126-01-31T15:56:12.714899293Z') % 1_000_000_000n).toBe(714_899_293n)
    expect(parseRfc3339('1970-01-01T00:00:00Z')).toBe(0n)
    expect(parseRfc3339('1970-01-01T01:00:00+01:00')).toBe(0n)
    expect(parseRfc3339('1969-12-31T23:00:00.5-01:00')).toBe(500_000_000n)
  })

  it('round-trips any instant in years 0000–9999 (format → parse → format)', () => {
    fc.assert(fc.property(fc.bigInt({ min: MIN, max: MAX }), ns => {
      const text = formatRfc3339Nano(ns)
      expect(parseRfc3339(text)).toBe(ns)
      expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d*[1-9])?Z$/)
      expect(Date.parse(text.replace(/(\.\d{3})\d+Z$/, '$1Z'))).toBe(Number(ns >= 0n ? ns / 1_000_000n : -((-ns + 999_999n) / 1_000_000n)))
    }), { numRuns: 500 })
  })

  it('rejects what Go time.Parse(RFC3339Nano) rejects', () => {
    for (const t of ['2024-13-01T00:00:00Z', '2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:60:00Z',
      '2024-01-01T00:00:60Z', '2024-01-01t00:00:00z', '2024-01-01T00:00:00', '2024-01-01T00:00:00.Z', '2024-01-01T00:00:00.1234567890Z',
      '24-01-01T00:00:00Z', '2024-01-01T00:00:00+2400', ' 2024-01-01T00:00:00Z']) {
      expect(() => parseRfc3339(t), t).toThrow(expect.objectContaining({ code: 'bad-validity' }) as Error)
    }
  })

  it('refuses to format outside four-digit years', () => {
    expect(() => formatRfc3339Nano(MAX + 1n)).toThrow(expect.objectContaining({ code: 'bad-lifetime' }) as Error)
  })
})
