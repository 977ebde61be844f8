/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for the
 * tests: HELP and TYPE lines, samples with escaped label values, every sample
 * in a declared family (histogram and summary suffixes included), no family
 * declared twice, no sample repeated, histogram buckets cumulative up to
 * +Inf = _count. Anything else throws, with the line.
 */

export interface Sample { name: string, labels: Record<string, string>, value: number }
export interface Family { name: string, type: string, help: string, samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

function parseValue (text: string, line: string): number {
  // Prometheus reads values with Go's strconv.ParseFloat: NaN and Inf in any case (prom-client writes 'Nan')
  if (/^[+]?inf(inity)?$/i.test(text)) return Infinity
  if (/^-inf(inity)?$/i.test(text)) return -Infinity
  if (/^nan$/i.test(text)) return NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value in: ${line}`)
  return Number(text)
}

function parseLabels (text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let i = 0
  while (i < text.length) {
    const eq = text.indexOf('=', i)
    if (eq === -1) throw new Error(`bad labels in: ${line}`)
    const key = text.slice(i, eq)
    if (!LABEL.test(key) || key in labels) throw new Error(`bad or repeated label name '${key}' in: ${line}`)
    if (text[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`)
    let j = eq + 2
    let value = ''
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j]
        if (next === 'n') value += '\n'
        else if (next === '\\' || next === '"') value += next
        else throw new Error(`bad escape in: ${line}`)
      } else value += text[j]
    }
    if (text[j] !== '"') throw new Error(`unterminated label value in: ${line}`)
    labels[key] = value
    i = j + 1
    if (text[i] === ',') i++
    else if (i !== text.length) throw new Error(`bad label separator in: ${line}`)
  }
  return labels
}

function familyOf (name: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(name)
  if (exact !== undefined) return exact
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue
    const f = families.get(name.slice(0, -suffix.length))
    if (f !== undefined && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f
  }
  return undefined
}

export function parsePrometheusText (text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const seen = new Set<string>()
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline')
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
      if (m === null) continue // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string]
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`)
      const f = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] }
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`bad type in: ${line}`)
        if (f.samples.length > 0) throw new Error(`TYPE after samples in: ${line}`)
        f.type = rest
      } else f.help = rest
      families.set(name, f)
      continue
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line)
    if (m === null) throw new Error(`bad sample line: ${line}`)
    const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string]
    const sample = { name, labels: parseLabels(labelText ?? '', line), value: parseValue(valueText, line) }
    const f = familyOf(name, families)
    if (f === undefined) throw new Error(`sample of an undeclared family: ${line}`)
    const key = `${name}${JSON.stringify(Object.entries(sample.labels).sort())}`
    if (seen.has(key)) throw new Error(`repeated sample: ${line}`)
    seen.add(key)
    f.samples.push(sample)
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

function checkHistogram (f: Family): void {
  const series = new Map<string, Sample[]>()
  for (const s of f.samples) {
    if (s.name !== `${f.name}_bucket`) continue
    const { le, ...rest } = s.labels
    if (le === undefined) throw new Error(`${f.name}: a bucket without le`)
    const key = JSON.stringify(Object.entries(rest).sort())
    series.set(key, [...(series.get(key) ?? []), s])
  }
  for (const [key, buckets] of series) {
    let last = -1
    for (const b of buckets) {
      if (b.value < last) throw new Error(`${f.name}${key}: buckets not cumulative`)
      last = b.value
    }
    const inf = buckets[buckets.length - 1]
    if (inf?.labels.le !== '+Inf') throw new Error(`${f.name}${key}: last bucket is not +Inf`)
    const count = f.samples.find(s => s.name === `${f.name}_count` && JSON.stringify(Object.entries(s.labels).sort()) === key)
    if (count?.value !== inf.value) throw new Error(`${f.name}${key}: +Inf bucket ${inf.value} is not _count ${count?.value}`)
  }
}

/** the value of one sample (0 when absent), its labels a subset match */
export function valueOf (families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const f = familyOf(name, families)
  const matches = (f?.samples ?? []).filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  return matches.reduce((sum, s) => sum + s.value, 0)
}
