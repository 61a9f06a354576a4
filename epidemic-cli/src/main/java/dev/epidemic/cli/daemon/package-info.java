/**
 * {@code epidemic run}: the configuration file ({@link dev.epidemic.cli.daemon.DaemonConfig}, read by
 * {@link dev.epidemic.cli.daemon.ConfigLoader}), its complete check before anything is installed
 * ({@link dev.epidemic.cli.daemon.Planner}, giving a {@link dev.epidemic.cli.daemon.DaemonPlan}), and the
 * consumers it runs ({@link dev.epidemic.cli.daemon.Daemon}). Not an API.
 */
package dev.epidemic.cli.daemon;
