/** How the NATS sink works inside: not API, may change in any release. */
package dev.epidemic.sink.nats.internal;
