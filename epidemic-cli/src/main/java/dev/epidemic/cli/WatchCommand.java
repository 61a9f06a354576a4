package dev.epidemic.cli;

import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.WatchedTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code epidemic watch TABLE}: installs capture on a table, or changes what it captures. */
@Command(name = "watch", mixinStandardHelpOptions = true,
        description = {"Installs capture on TABLE: every committed change to it is logged for the consumers.",
                "Running it again with other columns changes what is captured; with the same, it changes nothing.",
                "It states the whole capture: run without --where, it removes the table-wide row filter."})
final class WatchCommand implements Callable<Integer> {
    @ParentCommand
    EpidemicCommand epidemic;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "TABLE",
            description = "The table, optionally schema-qualified; quote mixed-case names: '\"Mixed Case\"'.")
    String table;

    @Option(names = "--columns", paramLabel = "c1,c2,...",
            description = "Capture only these columns (default: all). An UPDATE that changes none of them is not logged.")
    List<String> columns;

    @Option(names = "--key", paramLabel = "k1,k2,...",
            description = "The columns that identify a row (default: the primary key).")
    List<String> keys;

    @Option(names = "--where", paramLabel = "PREDICATE",
            description = {"Log only the rows this condition over the table's own columns selects, e.g. \"active AND quota_bytes > 0\"",
                    "(an UPDATE when its old or new row does). Only the table's columns, constants and built-in functions",
                    "that are not volatile; no subquery. See docs/row-filters.md."})
    String where;

    @Override
    public Integer call() {
        List<String> watchedColumns = names(columns, "no columns given to --columns; name at least one, or leave --columns out to capture all");
        List<String> keyColumns = names(keys, "no key columns given to --key; name at least one, or leave --key out to use the primary key");
        if (where != null && where.isBlank()) {
            throw new InvalidInputException("--where is empty; give a condition, or leave --where out to log every row");
        }
        WatchedTable watched = epidemic.database().admin().watch(table, watchedColumns, keyColumns, where);
        for (String warning : watched.warnings()) {
            spec.commandLine().getErr().println("epidemic: warning: " + warning);
        }
        spec.commandLine().getOut().printf("watching %s (columns: %s; key: %s%s)%n", watched.qualifiedName(),
                String.join(", ", watched.columns()), String.join(", ", watched.keyColumns()), where == null ? "" : "; rows where " + where.strip());
        return EpidemicCommand.OK;
    }

    /** The names of an option; empty when it was not given, an input error when it was given empty. */
    private static List<String> names(List<String> values, String whenEmpty) {
        if (values == null) {
            return List.of();
        }
        List<String> names = Names.split(values);
        if (names.isEmpty()) {
            throw new InvalidInputException(whenEmpty);
        }
        return names;
    }
}
