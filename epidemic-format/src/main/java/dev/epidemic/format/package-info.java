/**
 * A change as the message a sink sends: {@link dev.epidemic.format.ChangeFormat#named} picks one of the
 * formats ({@code epidemic}, {@code debezium}, {@code cloudevents}); {@link dev.epidemic.format.Message}
 * is its key, value, content type and headers. Only these two types are API; docs/formats.md describes
 * each format.
 */
package dev.epidemic.format;
