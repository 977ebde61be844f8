/**
 * Partitions of a testnet: groups of nodes that cannot reach each other.
 * Each child process keeps one PartitionTable (peer id → group) that the
 * parent sets and clears; every node of the child gets a connection gater
 * reading it (createNode composes it after the network guard), which refuses
 * every dial to, and every connection from, a peer in another group. A node
 * named in no group belongs to the group of the rest (REST_GROUP): so does a
 * node that joins while the partition holds.
 *
 * The gater only stops new connections; the ones open when the partition
 * starts are cut by each child's delay proxies (delay-proxy.ts sever()):
 * every connection is inbound at exactly one node, and crosses that node's
 * proxy, so each child cuts the cross-group connections its nodes accepted.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'

export const REST_GROUP = -1

export class PartitionTable {
  private groups: Map<string, number> | undefined

  /** peer id → group (any number ≥ 0); undefined heals */
  set (groups: Record<string, number> | undefined): void {
    this.groups = groups === undefined ? undefined : new Map(Object.entries(groups))
  }

  get active (): boolean { return this.groups !== undefined }

  groupOf (peerId: string): number {
    return this.groups?.get(peerId) ?? REST_GROUP
  }

  /** whether a and b are in different groups of the partition in force */
  separated (a: string, b: string): boolean {
    if (this.groups === undefined) return false
    return this.groupOf(a) !== this.groupOf(b)
  }
}

/** a gater for the node `self()` (undefined while it starts: nothing refused) under `table` */
export function partitionGater (table: PartitionTable, self: () => string | undefined): ConnectionGater {
  const deny = (peer: PeerId): boolean => {
    const me = self()
    return me !== undefined && table.separated(me, peer.toString())
  }
  return {
    denyDialPeer: deny,
    denyOutboundConnection: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny
  }
}
