/**
 * The command registry. Every actor's protocol file adds its commands to
 * these interfaces through declaration merging, so `ask` and `stream` are
 * typed end to end — including for extension actors defined outside this
 * package (`declare module 'swarmbus' { interface CommandMap { … } }`).
 *
 * CommandMap:  'type' → { command: { type: 'type', … }, reply: ReplyShape }   (one-shot ask)
 * StreamMap:   'type' → { command: { type: 'type', … }, item: ItemShape }     (streamed replies)
 */

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CommandMap {}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface StreamMap {}

export type AskType = keyof CommandMap & string
export type StreamType = keyof StreamMap & string
export type CommandType = AskType | StreamType

type CommandOfMap<M> = { [K in keyof M]: M[K] extends { command: infer C } ? C : never }[keyof M]

/** Every command that can be asked (one reply). */
export type AskCommand = CommandOfMap<CommandMap>
/** Every command whose reply is a stream. */
export type StreamCommand = CommandOfMap<StreamMap>
/** Every command the bus routes. */
export type AnyCommand = AskCommand | StreamCommand

export type ReplyOf<T extends AskType> = CommandMap[T] extends { reply: infer R } ? R : never
export type ItemOf<T extends StreamType> = StreamMap[T] extends { item: infer I } ? I : never

/** The minimum every command has: a dotted type (system.*, swarm.*, dht.*, record.*, key.*, ipns.*). */
export interface BaseCommand {
  type: string
}
