import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { decode, encode, fromJson, toJson } from '../../src/messages/codec.js'

describe('JSON codec', () => {
  it('round-trips bytes, bigints and nested protocol values', () => {
    const value = {
      type: 'dht.put',
      key: new Uint8Array([0x2f, 0x73, 0, 255]),
      value: new Uint8Array(0),
      sequence: 18446744073709551615n,
      ttl: -5n,
      list: [1, 'a', null, true, { inner: new Uint8Array([1, 2, 3]) }]
    }
    const text = encode(value)
    expect(JSON.parse(text).key).toEqual({ $bytes: 'L3MA/w==' })
    expect(JSON.parse(text).sequence).toEqual({ $bigint: '18446744073709551615' })
    expect(decode(text)).toEqual(value)
  })

  it('drops undefined fields and functions like JSON, keeps errors as name and message', () => {
    const err = new Error('boom')
    err.name = 'NotFoundError'
    const out = fromJson(toJson({ a: undefined, f: () => 1, e: err })) as { e: Error }
    expect(Object.keys(out)).toEqual(['e'])
    expect(out.e).toBeInstanceOf(Error)
    expect(out.e.name).toBe('NotFoundError')
    expect(out.e.message).toBe('boom')
  })

  it('refuses values JSON cannot carry faithfully', () => {
    expect(() => toJson({ n: NaN })).toThrow(TypeError)
    expect(() => toJson({ n: Infinity })).toThrow(TypeError)
    expect(() => toJson(Symbol('x'))).toThrow(TypeError)
    const deep: Record<string, unknown> = {}
    let cur = deep
    for (let i = 0; i < 70; i++) { cur.next = {}; cur = cur.next as Record<string, unknown> }
    expect(() => toJson(deep)).toThrow(RangeError)
  })

  it('rejects a malformed $bigint instead of guessing', () => {
    expect(() => decode('{"$bigint":"12x"}')).toThrow(SyntaxError)
  })

  it('leaves objects that only look tagged alone when they have other keys', () => {
    expect(decode('{"$bytes":"AA==","other":1}')).toEqual({ $bytes: 'AA==', other: 1 })
  })

  it('round-trips arbitrary protocol-shaped values (property)', () => {
    const leaf = fc.oneof(
      fc.string(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }).map(n => Object.is(n, -0) ? 0 : n),
      fc.bigInt(), fc.uint8Array({ maxLength: 64 })
    )
    const value = fc.letrec(tie => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(fc.string().filter(k => !k.startsWith('$') && k !== '__proto__'), tie('node'), { maxKeys: 4 }))
    })).node
    fc.assert(fc.property(value, v => {
      expect(decode(encode(v))).toEqual(v)
    }), { numRuns: 500 })
  })
})
