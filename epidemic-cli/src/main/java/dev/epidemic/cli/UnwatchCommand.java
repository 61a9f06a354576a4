package dev.epidemic.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code epidemic unwatch TABLE}: removes the capture triggers and function of a table. */
@Command(name = "unwatch", mixinStandardHelpOptions = true,
        description = "Removes capture from TABLE: no trigger or function of it is left. Changes already logged stay deliverable unless --purge.")
final class UnwatchCommand implements Callable<Integer> {
    @ParentCommand
    EpidemicCommand epidemic;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "TABLE", description = "The table, optionally schema-qualified.")
    String table;

    @Option(names = "--purge", description = "Also delete the table's changes from the log, delivered or not.")
    boolean purge;

    @Override
    public Integer call() {
        boolean wasWatched = epidemic.database().admin().unwatch(table, purge);
        spec.commandLine().getOut().println(wasWatched ? "unwatched " + table : table + " was not watched");
        return EpidemicCommand.OK;
    }
}
