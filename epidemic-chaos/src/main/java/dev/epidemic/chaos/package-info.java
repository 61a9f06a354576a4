/**
 * The chaos harness: concurrent writers that record their own truth, a consumer in a separate JVM that
 * is killed, cut off and made to fail at random, and a verdict that compares what was delivered with
 * what was committed. {@link dev.epidemic.chaos.Chaos} is the command; a database plugs in through
 * {@link dev.epidemic.chaos.ChaosDialect} (its SQL) and {@link dev.epidemic.chaos.ChaosTarget} (its server).
 */
package dev.epidemic.chaos;
