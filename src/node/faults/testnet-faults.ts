/**
 * The parent's handle on a multi-process testnet's faults (`net.faults`):
 * each call goes, as a `fault` request, to the children hosting the nodes it
 * names (child-faults.ts does the work there) and resolves once every one of
 * them has applied it. Nodes are named by their testnet index; a node whose
 * process died is skipped. See docs/testnets.md for the model.
 */
import { FailedError } from '../../messages/errors.js'
import { checkDelay } from './delay-proxy.js'
import type { ChildHost } from '../remote/child-host.js'
import type { RemoteNode } from '../remote/remote-node.js'
import type { FaultOp, FaultReply } from './child-faults.js'
import type { LinkDelay } from './delay-proxy.js'

const FAULT_TIMEOUT_MS = 30_000

/** which nodes: indices, or every node of the testnet */
export type NodeSelection = number[] | 'all'

export interface TestnetFaults {
  /** whether the testnet was created with `faults` (every node behind a delay proxy) */
  readonly enabled: boolean
  /** the one-way delay of every chunk on the connections these nodes accept (both directions) */
  delay(nodes: NodeSelection, delay: LinkDelay): Promise<FaultReply>
  /** nothing moves on their connections for ms, then what waited leaves */
  stall(nodes: NodeSelection, ms: number): Promise<FaultReply>
  /** nothing moves until thaw(); connections stay open, new ones are accepted and hang */
  freeze(nodes: NodeSelection): Promise<FaultReply>
  thaw(nodes: NodeSelection): Promise<FaultReply>
  /**
   * groups of node indices that cannot reach each other (nodes in no group,
   * and nodes added later, form one more group); replaces a partition in
   * force; open connections across groups are cut
   */
  partition(groups: number[][]): Promise<FaultReply>
  /** every node can reach every other again (they reconnect as they need) */
  heal(): Promise<FaultReply>
}

export function testnetFaults (enabled: boolean, nodes: () => RemoteNode[], hosts: ChildHost[]): TestnetFaults {
  const need = (): void => {
    if (!enabled) throw new FailedError('this testnet has no faults: create it with `faults: {}` (or a delay) to put its nodes behind delay proxies')
  }
  const select = (which: NodeSelection): RemoteNode[] => {
    const all = nodes()
    if (which === 'all') return all
    return which.map(i => {
      const node = all[i]
      if (node === undefined) throw new RangeError(`no testnet node ${i}`)
      return node
    })
  }
  const sum = (replies: FaultReply[]): FaultReply => ({ nodes: replies.reduce((a, r) => a + r.nodes, 0), severed: replies.reduce((a, r) => a + r.severed, 0) })
  const send = async (host: ChildHost, op: FaultOp): Promise<FaultReply> => await host.request({ t: 'fault', op }, FAULT_TIMEOUT_MS) as FaultReply
  /** one op per child, for the nodes of `which` it hosts */
  const perNode = async (which: NodeSelection, op: (indices: number[]) => FaultOp): Promise<FaultReply> => {
    need()
    const byHost = new Map<number, number[]>()
    for (const node of select(which)) byHost.set(node.process, [...(byHost.get(node.process) ?? []), node.index])
    const replies = await Promise.all([...byHost].map(async ([h, indices]) => {
      const host = hosts[h]
      return host === undefined || !host.alive ? { nodes: 0, severed: 0 } : await send(host, op(indices))
    }))
    return sum(replies)
  }
  const everyChild = async (op: FaultOp): Promise<FaultReply> => {
    need()
    return sum(await Promise.all(hosts.filter(h => h.alive).map(async h => await send(h, op))))
  }
  return {
    enabled,
    delay: async (which, delay) => {
      const d = checkDelay(delay)
      return await perNode(which, indices => ({ kind: 'delay', nodes: indices, ...d }))
    },
    stall: async (which, ms) => {
      if (!Number.isFinite(ms) || ms < 0 || ms > 600_000) throw new RangeError('a stall is from 0 to 600,000 ms')
      return await perNode(which, indices => ({ kind: 'stall', nodes: indices, ms }))
    },
    freeze: async which => await perNode(which, indices => ({ kind: 'freeze', nodes: indices })),
    thaw: async which => await perNode(which, indices => ({ kind: 'thaw', nodes: indices })),
    partition: async groups => {
      const all = nodes()
      const map: Record<string, number> = {}
      groups.forEach((group, g) => {
        for (const i of group) {
          const node = all[i]
          if (node === undefined) throw new RangeError(`no testnet node ${i}`)
          if (map[node.peerId] !== undefined) throw new RangeError(`testnet node ${i} is in two groups`)
          map[node.peerId] = g
        }
      })
      return await everyChild({ kind: 'partition', groups: map })
    },
    heal: async () => await everyChild({ kind: 'partition', groups: null })
  }
}
