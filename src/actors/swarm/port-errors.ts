/**
 * Errors leaving the DhtPort are plain Errors whose `name` says what
 * happened: 'AbortError' (the caller's signal fired), 'NotFoundError',
 * 'NotStartedError', 'InvalidParametersError', or the libp2p error's own name.
 */

function named (name: string, message: string, cause?: unknown): Error {
  const err = cause === undefined ? new Error(message) : new Error(message, { cause })
  err.name = name
  return err
}

export function abortError (signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  const message = reason instanceof Error && reason.message !== '' ? reason.message : 'The operation was aborted'
  return named('AbortError', message)
}

export function notFoundError (message: string): Error {
  return named('NotFoundError', message)
}

export function notStartedError (): Error {
  return named('NotStartedError', 'the DHT port has been stopped')
}

/**
 * Converts whatever libp2p threw into a plain Error. If the caller's signal
 * has fired, the result is always an AbortError, whatever libp2p reported
 * (a reset stream, a closed queue, …).
 */
export function toPortError (err: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted === true) {
    return abortError(signal)
  }
  if (err instanceof Error) {
    if (Object.getPrototypeOf(err) === Error.prototype && err.name !== 'Error') {
      return err
    }
    return named(err.name, err.message === '' ? err.name : err.message, err)
  }
  return named('Error', String(err))
}
