/**
 * swarmbus — the public surface. Everything else is internal.
 */
import './messages/system.js'
import './messages/swarm.js'
import './messages/keys.js'
import './messages/records.js'
import './messages/store.js'
import './messages/ipns.js'
import './messages/dnslink.js'
import './messages/republish.js'
import './messages/routers.js'

export { createNode } from './node/create-node.js'
export type { NodeOptions, SwarmNode } from './node/create-node.js'
export type { NetworkName, NetworkSettings } from './actors/swarm/libp2p/profiles.js'
export type { TraceFileStatus } from './node/trace-file.js'
export { createTestnet } from './node/create-testnet.js'
export type { Testnet, TestnetOptions } from './node/create-testnet.js'
export type { ProcessTestnet, ProcessTestnetOptions, ProcessTestnetReport, TestnetProcess } from './node/process-testnet.js'
export type { ProcessStats } from './node/remote/protocol.js'
export type { NodeHandle, RemoteNode } from './node/remote/remote-node.js'
export type { RemoteNodeOptions } from './node/remote/protocol.js'
export type { ChildExit } from './node/remote/child-host.js'
export { replayNodeTrace, replayNodeTraceFile } from './node/replay-node.js'
export type { NodeReplayOptions, NodeReplayReport } from './node/replay-node.js'

export { defineActor } from './actors/runtime/actor.js'
export type {
  ActorBehavior, ActorContext, ActorDefinition, AskOptions, Cancel, CancelReason, Delivery, Incoming, ItemFor,
  ProgressEvent, ReplyFor, ReplyPort, Settled, SupervisionPolicy
} from './actors/runtime/actor.js'
export type { DeadLetter, DeadLetterReason } from './actors/runtime/dead-letters.js'
export type { Incident, IncidentKind } from './actors/runtime/incidents.js'
export type { Clock } from './actors/runtime/clock.js'
export { SimulatedClock } from './actors/runtime/clock.js'
export { ActorSystem } from './actors/runtime/system.js'
export type { SystemOptions } from './actors/runtime/system.js'
export { TraceRecorder, parseTrace } from './actors/runtime/trace-recorder.js'
export { replayTrace } from './actors/runtime/replayer.js'
export type { ReplayReport, Divergence } from './actors/runtime/replayer.js'
export type { TraceEvent, TraceHeader, TraceSink } from './actors/runtime/trace-events.js'

export type {
  AnyCommand, AskCommand, AskType, BaseCommand, CommandMap, CommandType, ItemOf, ReplyOf, StreamCommand, StreamMap, StreamType
} from './messages/commands.js'
export type { Envelope } from './messages/envelope.js'
export type { Failure, FailureCause, FailureKind } from './messages/failure.js'
export {
  AbortError, BootstrapError, FailedError, InvalidCommandError, InvalidRecordError, NotFoundError, OverloadedError,
  StoppedError, SwarmbusError, TimeoutError
} from './messages/errors.js'
export { encode as encodeJson, decode as decodeJson, toJson, fromJson } from './messages/codec.js'
export type * from './messages/swarm.js'
export type * from './messages/system.js'
export type * from './messages/keys.js'
export type * from './messages/records.js'
export type * from './messages/store.js'
export type * from './messages/ipns.js'
export type * from './messages/dnslink.js'
export type * from './messages/republish.js'
export type * from './messages/routers.js'
export type { BootstrapRetryOptions } from './actors/swarm/bootstrap-joiner.js'
export type { DnsOps } from './actors/dnslink/dns-ops.js'
export type { DnsLinkSettings } from './actors/dnslink/dnslink-actor.js'
export type { RoutersSettings } from './actors/routers/routers-actor.js'
