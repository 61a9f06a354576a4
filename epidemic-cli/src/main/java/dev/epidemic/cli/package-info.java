/**
 * The {@code epidemic} command line: one class per subcommand, mapping the public API
 * ({@link dev.epidemic.api.EpidemicAdmin}, {@link dev.epidemic.api.Epidemic}) to the contract's
 * commands, output formats and exit codes. Not an API: nothing here is meant to be called from code.
 */
package dev.epidemic.cli;
