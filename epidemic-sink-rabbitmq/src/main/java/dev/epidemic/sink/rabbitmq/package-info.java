/**
 * The RabbitMQ sink: {@link dev.epidemic.sink.rabbitmq.RabbitMqSink} publishes changes to an exchange with
 * publisher confirms, built from {@link dev.epidemic.sink.rabbitmq.RabbitMqSink.Settings}; a refusal the
 * broker will not take back is a {@link dev.epidemic.sink.rabbitmq.RefusedByBrokerException}. Only these
 * types are API; docs/sinks/rabbitmq.md describes the sink.
 */
package dev.epidemic.sink.rabbitmq;
