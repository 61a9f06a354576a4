/**
 * The NATS JetStream sink: {@link dev.epidemic.sink.nats.NatsSink} publishes a table's changes to JetStream
 * subjects and returns only when the stream acknowledged each of them. docs/sinks/nats.md describes it.
 */
package dev.epidemic.sink.nats;
