import type { ActorStatus } from '../../messages/system.js'

export interface SystemStatus {
  actors: ActorStatus[]
  deadLetters: { total: number, byReason: Record<string, number> }
  openPorts: number
  deliveries: number
}
