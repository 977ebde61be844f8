/** A query id keys a reply port. It is unique within one system (one node). */
export type QueryId = string

/** The name of an actor in a system's registry ('swarm', 'system', 'ipns', …). */
export type ActorName = string

/** 'host' for asks made from outside the actors; otherwise the asking actor's name. */
export type Sender = ActorName | 'host'
