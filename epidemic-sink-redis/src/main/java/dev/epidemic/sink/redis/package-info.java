/**
 * The Redis Streams sink: {@link dev.epidemic.sink.redis.RedisSink} appends each change to a stream with
 * {@code XADD}, built from {@link dev.epidemic.sink.redis.RedisSink.Settings}, which are also the daemon's
 * {@code redis:} keys. The client is Jedis, which needs no Netty. See docs/sinks/redis.md.
 */
package dev.epidemic.sink.redis;
