/**
 * The daemon's built-in receivers: {@link dev.epidemic.cli.sink.StdoutSink} (JSON lines) and
 * {@link dev.epidemic.cli.sink.WebhookSink} (signed HTTP POSTs, see {@link dev.epidemic.cli.sink.Signature}).
 */
package dev.epidemic.cli.sink;
