/**
 * A map request that cannot be computed as asked: an unknown tensor, a layer or head out of range, a crop outside
 * the map, an unknown statistic. Its message is one sentence naming the request's owner. The engine never retries
 * it (retrying cannot help), unlike failures after a device loss; front ends show it as a usage error. A class of
 * its own so that no other RangeError (a bug, an engine limit) is taken for a bad request.
 */
export class MapRequestError extends Error {
  override readonly name = 'MapRequestError';
}
